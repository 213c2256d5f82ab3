"""aiosmtpd handlers for the email sink's tests: recipients refused with a chosen reply.

`python3 -m aiosmtpd -c refusing.Refusing CODE LOGFILE` answers every RCPT TO with CODE
(`550` permanent, `450` transient) and appends one line per attempt to LOGFILE.
"""


class Refusing:
    def __init__(self, code, log):
        self.code = code
        self.log = log

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 2:
            parser.error("Refusing takes CODE and LOGFILE")
        return cls(*args)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with open(self.log, "a") as f:
            f.write(address + "\n")
        if self.code.startswith("4"):
            return self.code + " 4.2.0 mailbox busy, try later"
        return self.code + " 5.1.1 no such user here"
