//! Where the memory limit comes from: cgroup v2 `memory.max`, cgroup v1
//! `memory.limit_in_bytes`, or the host's memory when the cgroup sets none.
//!
//! Mount points are read from `/proc/self/mountinfo` rather than assumed, because hybrid
//! hosts mount cgroup2 at `/sys/fs/cgroup/unified` and the v1 memory controller at
//! `/sys/fs/cgroup/memory`. A limit is the smallest one from the process's cgroup up to the
//! mount root, as the kernel enforces.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a memory limit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitSource {
    /// Set in configuration.
    Configured,
    /// cgroup v2 `memory.max`.
    CgroupV2,
    /// cgroup v1 `memory.limit_in_bytes`.
    CgroupV1,
    /// The process's cgroup sets no limit, so the limit is the host's memory
    /// (`MemTotal` in `/proc/meminfo`).
    HostMemory,
}

impl fmt::Display for LimitSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitSource::Configured => "configuration",
            LimitSource::CgroupV2 => "cgroup v2 memory.max",
            LimitSource::CgroupV1 => "cgroup v1 memory.limit_in_bytes",
            LimitSource::HostMemory => "host memory (the cgroup sets no limit)",
        })
    }
}

/// A memory limit and its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLimit {
    /// The limit in bytes.
    pub bytes: u64,
    /// Where it came from.
    pub source: LimitSource,
}

/// What a cgroup hierarchy says about the memory limit.
#[derive(Debug, PartialEq, Eq)]
enum CgroupLimit {
    Limited(u64),
    Unlimited,
}

/// cgroup v1 reports "no limit" as a page-rounded `i64::MAX`; anything this large is none.
const V1_UNLIMITED: u64 = 1 << 62;

/// Reads files under a root directory (`/` in production, a temporary tree in tests).
#[derive(Debug, Clone)]
pub(crate) struct Host {
    root: PathBuf,
}

impl Host {
    pub(crate) fn new(root: impl Into<PathBuf>) -> Self {
        Host { root: root.into() }
    }

    fn read(&self, path: &Path) -> Option<String> {
        let relative = path.strip_prefix("/").unwrap_or(path);
        std::fs::read_to_string(self.root.join(relative)).ok()
    }

    /// The memory limit of this process, or `None` when neither cgroup version has memory
    /// accounting files for it and `/proc/meminfo` is unreadable.
    pub(crate) fn memory_limit(&self) -> Option<MemoryLimit> {
        let mounts = self
            .read(Path::new("/proc/self/mountinfo"))
            .unwrap_or_default();
        let cgroups = self
            .read(Path::new("/proc/self/cgroup"))
            .unwrap_or_default();
        let v2 = self.cgroup_limit(&mounts, &cgroups, Version::V2);
        let v1 = || self.cgroup_limit(&mounts, &cgroups, Version::V1);
        let (limit, source) = match v2.map(|l| (l, LimitSource::CgroupV2)) {
            Some(found) => found,
            None => v1().map(|l| (l, LimitSource::CgroupV1))?,
        };
        match limit {
            CgroupLimit::Limited(bytes) => Some(MemoryLimit { bytes, source }),
            CgroupLimit::Unlimited => self.host_memory().map(|bytes| MemoryLimit {
                bytes,
                source: LimitSource::HostMemory,
            }),
        }
    }

    /// The process's resident memory in bytes (`VmRSS` of `/proc/self/status`).
    pub(crate) fn resident_memory(&self) -> Option<u64> {
        let status = self.read(Path::new("/proc/self/status"))?;
        kib_field(&status, "VmRSS:")
    }

    fn host_memory(&self) -> Option<u64> {
        kib_field(&self.read(Path::new("/proc/meminfo"))?, "MemTotal:")
    }

    fn cgroup_limit(&self, mounts: &str, cgroups: &str, version: Version) -> Option<CgroupLimit> {
        let (mount_root, mount_point) = find_mount(mounts, version)?;
        let path = find_cgroup_path(cgroups, version)?;
        let relative = if mount_root == "/" {
            path.as_str()
        } else {
            path.strip_prefix(mount_root.as_str()).unwrap_or("/")
        };
        let mount_point = PathBuf::from(mount_point);
        let mut dir = mount_point.join(relative.trim_start_matches('/'));
        let mut found: Option<CgroupLimit> = None;
        loop {
            if let Some(text) = self.read(&dir.join(version.file())) {
                let here = version.parse(text.trim())?;
                found = Some(match (found, here) {
                    (Some(CgroupLimit::Limited(a)), CgroupLimit::Limited(b)) => {
                        CgroupLimit::Limited(a.min(b))
                    }
                    (Some(CgroupLimit::Limited(a)), CgroupLimit::Unlimited) => {
                        CgroupLimit::Limited(a)
                    }
                    (_, here) => here,
                });
            }
            if dir == mount_point || !dir.pop() || !dir.starts_with(&mount_point) {
                break;
            }
        }
        found
    }
}

#[derive(Debug, Clone, Copy)]
enum Version {
    V1,
    V2,
}

impl Version {
    fn file(self) -> &'static str {
        match self {
            Version::V1 => "memory.limit_in_bytes",
            Version::V2 => "memory.max",
        }
    }

    fn parse(self, text: &str) -> Option<CgroupLimit> {
        match (self, text) {
            (Version::V2, "max") => Some(CgroupLimit::Unlimited),
            (Version::V1, n) => n.parse::<u64>().ok().map(|n| {
                if n >= V1_UNLIMITED {
                    CgroupLimit::Unlimited
                } else {
                    CgroupLimit::Limited(n)
                }
            }),
            (Version::V2, n) => n.parse::<u64>().ok().map(CgroupLimit::Limited),
        }
    }
}

/// The (root, mount point) of the cgroup2 mount, or of the v1 mount with the memory
/// controller.
fn find_mount(mountinfo: &str, version: Version) -> Option<(String, String)> {
    mountinfo.lines().find_map(|line| {
        let (before, after) = line.split_once(" - ")?;
        let fields: Vec<&str> = before.split(' ').collect();
        let mut after = after.split(' ');
        let fstype = after.next()?;
        let _source = after.next();
        let super_options = after.next().unwrap_or("");
        let matches = match version {
            Version::V2 => fstype == "cgroup2",
            Version::V1 => fstype == "cgroup" && super_options.split(',').any(|o| o == "memory"),
        };
        (matches && fields.len() >= 5).then(|| (unescape(fields[3]), unescape(fields[4])))
    })
}

/// The process's cgroup path for the hierarchy.
fn find_cgroup_path(cgroups: &str, version: Version) -> Option<String> {
    cgroups.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let id = parts.next()?;
        let controllers = parts.next()?;
        let path = parts.next()?;
        let matches = match version {
            Version::V2 => id == "0" && controllers.is_empty(),
            Version::V1 => controllers.split(',').any(|c| c == "memory"),
        };
        matches.then(|| path.to_owned())
    })
}

/// Decodes the octal escapes (`\040` for a space) of mountinfo paths.
fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut rest = field;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(byte) => {
                out.push(char::from(byte));
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A `Name:   1234 kB` field of a /proc file, in bytes.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line[name.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let full = dir.path().join(path.trim_start_matches('/'));
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, text).unwrap();
        }
        dir
    }

    const MEMINFO: (&str, &str) = (
        "/proc/meminfo",
        "MemTotal:       24683656 kB\nMemFree: 1 kB\n",
    );

    #[test]
    fn cgroup_v2_limit_is_the_smallest_up_to_the_mount() {
        let dir = tree(&[
            (
                "/proc/self/mountinfo",
                "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n",
            ),
            ("/proc/self/cgroup", "0::/app/web\n"),
            ("/sys/fs/cgroup/app/web/memory.max", "max\n"),
            ("/sys/fs/cgroup/app/memory.max", "536870912\n"),
            MEMINFO,
        ]);
        let limit = Host::new(dir.path()).memory_limit().unwrap();
        assert_eq!(
            limit,
            MemoryLimit {
                bytes: 536870912,
                source: LimitSource::CgroupV2
            }
        );
    }

    #[test]
    fn cgroup_v2_unlimited_falls_back_to_host_memory() {
        let dir = tree(&[
            (
                "/proc/self/mountinfo",
                "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
            ),
            ("/proc/self/cgroup", "0::/user.slice\n"),
            ("/sys/fs/cgroup/user.slice/memory.max", "max\n"),
            MEMINFO,
        ]);
        let limit = Host::new(dir.path()).memory_limit().unwrap();
        assert_eq!(
            limit,
            MemoryLimit {
                bytes: 24683656 * 1024,
                source: LimitSource::HostMemory
            }
        );
    }

    #[test]
    fn hybrid_host_uses_the_v1_memory_controller() {
        // The layout of this project's CI machines: cgroup2 at /unified without memory
        // accounting, the v1 memory controller elsewhere.
        let dir = tree(&[
            (
                "/proc/self/mountinfo",
                "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
                 36 31 0:33 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
            ),
            ("/proc/self/cgroup", "4:memory:/jobs/abc\n0::/\n"),
            (
                "/sys/fs/cgroup/memory/jobs/abc/memory.limit_in_bytes",
                "1073741824\n",
            ),
            (
                "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                "9223372036854771712\n",
            ),
            MEMINFO,
        ]);
        let limit = Host::new(dir.path()).memory_limit().unwrap();
        assert_eq!(
            limit,
            MemoryLimit {
                bytes: 1 << 30,
                source: LimitSource::CgroupV1
            }
        );
    }

    #[test]
    fn v1_unlimited_value_means_no_limit() {
        let dir = tree(&[
            (
                "/proc/self/mountinfo",
                "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
            ),
            ("/proc/self/cgroup", "4:memory:/\n"),
            (
                "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                "9223372036854771712\n",
            ),
            MEMINFO,
        ]);
        assert_eq!(
            Host::new(dir.path()).memory_limit().unwrap().source,
            LimitSource::HostMemory
        );
    }

    #[test]
    fn missing_files_mean_no_limit() {
        let dir = tree(&[("/proc/self/cgroup", "0::/\n")]);
        assert_eq!(Host::new(dir.path()).memory_limit(), None);
        assert_eq!(Host::new(dir.path()).resident_memory(), None);
    }

    #[test]
    fn garbage_in_a_limit_file_is_no_limit_not_a_panic() {
        let dir = tree(&[
            (
                "/proc/self/mountinfo",
                "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
            ),
            ("/proc/self/cgroup", "0::/a\n"),
            ("/sys/fs/cgroup/a/memory.max", "lots\n"),
        ]);
        assert_eq!(Host::new(dir.path()).memory_limit(), None);
    }

    #[test]
    fn resident_memory_reads_vmrss() {
        let dir = tree(&[("/proc/self/status", "Name:\tx\nVmRSS:\t    2028 kB\n")]);
        assert_eq!(Host::new(dir.path()).resident_memory(), Some(2028 * 1024));
    }

    #[test]
    fn mountinfo_escapes() {
        assert_eq!(unescape(r"/a\040b"), "/a b");
        assert_eq!(unescape(r"/a\x"), r"/a\x");
    }

    #[test]
    fn this_machine_reads_without_error() {
        // Whatever this host's layout, reading it must not panic; on Linux, RSS exists.
        let host = Host::new("/");
        let _ = host.memory_limit();
        if cfg!(target_os = "linux") {
            assert!(host.resident_memory().unwrap_or(0) > 0);
        }
    }
}
