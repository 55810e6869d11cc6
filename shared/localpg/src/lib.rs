//! A private PostgreSQL cluster on this machine, started from the server
//! binaries (`initdb`, `pg_ctl`): throw-away in a temporary directory for
//! tests, or kept in a project folder for `fdi up`.

use std::{
    fs,
    net::TcpListener,
    os::unix::{fs::MetadataExt, process::CommandExt},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// A running private cluster; `stop_immediate`/`start_server` let tests restart it.
#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    root: PathBuf,
    data: PathBuf,
    socket_dir: PathBuf,
    port: u16,
    run_as: Option<(u32, u32)>,
    /// For a throw-away cluster: its directory, deleted after the server stops.
    temporary: Option<tempfile::TempDir>,
}

/// Where the PostgreSQL server binaries are.
///
/// # Errors
/// When none are found; the message says what to install.
pub fn find_pg_bin() -> Result<PathBuf, String> {
    if let Ok(bin) = std::env::var("FDI_PG_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let has_initdb = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if has_initdb(&dir) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .filter(|p| has_initdb(p))
                .collect()
        })
        .unwrap_or_default();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop().ok_or_else(|| {
        "PostgreSQL server binaries not found: install them (Debian: apt-get install postgresql) \
         or set DATABASE_URL or FDI_PG_BIN"
            .to_owned()
    })
}

/// The advice when the server binaries cannot be installed here.
const INSTALL_ADVICE: &str = "install the PostgreSQL server binaries yourself (Debian: apt-get install postgresql), \
     or set DATABASE_URL to a running server, or FDI_PG_BIN to the folder of initdb and pg_ctl";

/// What this machine allows for installing packages, as far as [`install_commands`] cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstallContext {
    /// This process runs as root.
    pub root: bool,
    /// `apt-get` is on `PATH`.
    pub apt_get: bool,
    /// `sudo` is on `PATH`.
    pub sudo: bool,
}

impl InstallContext {
    /// This machine and process.
    #[must_use]
    pub fn detect() -> Self {
        Self {
            root: effective_uid() == Some(0),
            apt_get: on_path("apt-get"),
            sudo: on_path("sudo"),
        }
    }
}

/// The commands that install the PostgreSQL server binaries, the same as
/// `cli/test.sh` runs: `apt-get update -q`, then
/// `DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql`, as root
/// or through `sudo -n` (never a password prompt).
///
/// # Errors
/// When they cannot run here (no apt-get; neither root nor sudo); the message says what to install.
pub fn install_commands(context: InstallContext) -> Result<Vec<Vec<String>>, String> {
    if !context.apt_get {
        return Err(format!(
            "PostgreSQL server binaries not found and apt-get is not available to install them: {INSTALL_ADVICE}"
        ));
    }
    let prefix: &[&str] = match (context.root, context.sudo) {
        (true, _) => &[],
        (false, true) => &["sudo", "-n"],
        (false, false) => {
            return Err(format!(
                "PostgreSQL server binaries not found, and installing them needs root (this user is not root \
                 and sudo is not available): {INSTALL_ADVICE}"
            ));
        }
    };
    let commands: [&[&str]; 2] = [
        &["apt-get", "update", "-q"],
        &[
            "env",
            "DEBIAN_FRONTEND=noninteractive",
            "apt-get",
            "install",
            "-y",
            "-q",
            "postgresql",
        ],
    ];
    Ok(commands
        .iter()
        .map(|command| {
            prefix
                .iter()
                .chain(command.iter())
                .map(|&word| word.to_owned())
                .collect()
        })
        .collect())
}

/// Where the PostgreSQL server binaries are, installing them first when none
/// are found ([`install_commands`]; `say` is told what is happening, and the
/// commands' own output goes to this process's stdout and stderr).
///
/// # Errors
/// When they are missing and cannot be installed; the message says what to install.
pub fn ensure_server_binaries(say: &mut dyn FnMut(&str)) -> Result<PathBuf, String> {
    if let Ok(bin) = find_pg_bin() {
        return Ok(bin);
    }
    let commands = install_commands(InstallContext::detect())?;
    say(
        "PostgreSQL server binaries not found: installing the PostgreSQL server binaries (apt-get install postgresql) ...",
    );
    for command in &commands {
        say(&format!("  $ {}", command.join(" ")));
        let status = Command::new(&command[0])
            .args(&command[1..])
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("{}: {e}; {INSTALL_ADVICE}", command[0]))?;
        if !status.success() {
            return Err(format!("`{}` failed ({status}): {INSTALL_ADVICE}", command.join(" ")));
        }
    }
    let bin = find_pg_bin().map_err(|_| {
        format!("apt-get installed postgresql, but initdb and pg_ctl are still not found: {INSTALL_ADVICE}")
    })?;
    say(&format!("PostgreSQL server binaries installed in {}.", bin.display()));
    Ok(bin)
}

fn effective_uid() -> Option<u32> {
    fs::metadata("/proc/self").map(|m| m.uid()).ok()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// PostgreSQL refuses to run as root; when we are root, run it as the
/// `postgres` system user if there is one, else as `nobody`.
fn unprivileged_user() -> Option<(u32, u32)> {
    if effective_uid()? != 0 {
        return None;
    }
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    let lookup = |name: &str| {
        passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.len() > 3 && fields[0] == name)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
    };
    lookup("postgres").or_else(|| lookup("nobody")).or(Some((65534, 65534)))
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

impl Cluster {
    /// Initialises and starts a cluster in a new temporary directory.
    ///
    /// # Errors
    /// When the binaries are missing or the server does not start.
    pub fn start() -> Result<Self, String> {
        let temporary = tempfile::Builder::new()
            .prefix("fdi-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let root = temporary.path().to_path_buf();
        let cluster = Self::prepare(root, free_port()?, Some(temporary))?;
        cluster.start_server()?;
        cluster.spawn_watchdog();
        Ok(cluster)
    }

    /// Starts a cluster kept in `root` (initialised on first use) on `port`;
    /// the caller stops it with [`Cluster::stop`].
    ///
    /// # Errors
    /// When the binaries are missing or the server does not start.
    pub fn open(root: &Path, port: u16) -> Result<Self, String> {
        fs::create_dir_all(root).map_err(|e| format!("{}: {e}", root.display()))?;
        let root = root.canonicalize().map_err(|e| e.to_string())?;
        let cluster = Self::prepare(root, port, None)?;
        if cluster.data.join("postmaster.pid").exists() {
            // A previous run was killed: stop what may be left of it.
            let _ = cluster.run("pg_ctl", &["-D", path_str(&cluster.data), "-m", "fast", "-w", "stop"]);
        }
        cluster.start_server()?;
        Ok(cluster)
    }

    fn prepare(root: PathBuf, port: u16, temporary: Option<tempfile::TempDir>) -> Result<Self, String> {
        let bin = find_pg_bin()?;
        let run_as = unprivileged_user();
        let data = root.join("data");
        let socket_dir = root.join("socket");
        fs::create_dir_all(&socket_dir).map_err(|e| e.to_string())?;
        if let Some((uid, gid)) = run_as {
            for path in [root.as_path(), socket_dir.as_path()] {
                std::os::unix::fs::chown(path, Some(uid), Some(gid))
                    .map_err(|e| format!("chown {}: {e}", path.display()))?;
            }
        }
        let cluster = Self {
            bin,
            root,
            data,
            socket_dir,
            port,
            run_as,
            temporary,
        };
        if !cluster.data.join("PG_VERSION").exists() {
            cluster.run(
                "initdb",
                &[
                    "-D",
                    path_str(&cluster.data),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                ],
            )?;
        }
        Ok(cluster)
    }

    /// Stops the server cleanly (`-m fast`).
    ///
    /// # Errors
    /// When pg_ctl fails.
    pub fn stop(&self) -> Result<(), String> {
        self.run("pg_ctl", &["-D", path_str(&self.data), "-m", "fast", "-w", "stop"])
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid).gid(gid);
        }
        command.stdin(Stdio::null());
        command
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let output = self
            .command(program)
            .args(args)
            .output()
            .map_err(|e| format!("{program}: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// Starts the server (again) and waits until it accepts connections.
    ///
    /// # Errors
    /// When it does not come up within 30 seconds.
    pub fn start_server(&self) -> Result<(), String> {
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=128MB",
            self.port,
            path_str(&self.socket_dir)
        );
        if self.temporary.is_some() {
            // A throw-away cluster does not outlive a machine crash; skipping fsync makes tests fast.
            options.push_str(" -c fsync=off -c full_page_writes=off");
        }
        let log = self.data.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&self.data),
                "-l",
                path_str(&log),
                "-o",
                &options,
                "-w",
                "-t",
                "30",
                "start",
            ],
        )?;
        self.wait_ready(Duration::from_secs(30))
    }

    /// Stops the server the hard way (`-m immediate`, as a crash would).
    ///
    /// # Errors
    /// When pg_ctl fails.
    pub fn stop_immediate(&self) -> Result<(), String> {
        self.run("pg_ctl", &["-D", path_str(&self.data), "-m", "immediate", "-w", "stop"])
    }

    fn wait_ready(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err("PostgreSQL did not become ready in time".to_owned());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the cluster and removes its files once this process has exited.
    fn spawn_watchdog(&self) {
        let script = format!(
            "while kill -0 {parent} 2>/dev/null; do sleep 1; done; \
             if [ -f '{data}/postmaster.pid' ]; then kill -QUIT $(head -n1 '{data}/postmaster.pid') 2>/dev/null; sleep 1; fi; \
             rm -rf '{root}'",
            parent = std::process::id(),
            data = path_str(&self.data),
            root = path_str(&self.root),
        );
        let spawned = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        if let Err(error) = spawned {
            eprintln!("warning: cannot start the PostgreSQL watchdog ({error}); stop it by hand");
        }
    }

    /// TCP port of the server.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connection URL for a database on this cluster.
    #[must_use]
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // A throw-away cluster must not outlive its directory.
        if self.temporary.is_some() && self.data.join("postmaster.pid").exists() {
            let _ = self.stop_immediate();
        }
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(root: bool, apt_get: bool, sudo: bool) -> InstallContext {
        InstallContext { root, apt_get, sudo }
    }

    fn lines(commands: &[Vec<String>]) -> Vec<String> {
        commands.iter().map(|c| c.join(" ")).collect()
    }

    #[test]
    fn root_runs_apt_get_itself() {
        for sudo in [false, true] {
            let commands = install_commands(context(true, true, sudo)).unwrap();
            assert_eq!(
                lines(&commands),
                [
                    "apt-get update -q",
                    "env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql"
                ]
            );
        }
    }

    #[test]
    fn another_user_goes_through_sudo_without_a_prompt() {
        let commands = install_commands(context(false, true, true)).unwrap();
        assert_eq!(
            lines(&commands),
            [
                "sudo -n apt-get update -q",
                "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql"
            ]
        );
    }

    #[test]
    fn another_user_without_sudo_is_told_what_to_install() {
        let error = install_commands(context(false, true, false)).unwrap_err();
        assert!(error.contains("needs root"), "{error}");
        assert!(error.contains("apt-get install postgresql"), "{error}");
        assert!(
            error.contains("DATABASE_URL") && error.contains("FDI_PG_BIN"),
            "{error}"
        );
    }

    #[test]
    fn without_apt_get_nothing_runs_and_the_message_says_what_to_install() {
        for (root, sudo) in [(true, true), (false, true), (false, false)] {
            let error = install_commands(context(root, false, sudo)).unwrap_err();
            assert!(error.contains("apt-get is not available"), "{error}");
            assert!(error.contains("PostgreSQL server binaries"), "{error}");
            assert!(error.contains("DATABASE_URL"), "{error}");
        }
    }
}
