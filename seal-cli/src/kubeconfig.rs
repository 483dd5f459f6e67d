//! The kubeconfig, read as client-go reads it for kubeseal: the files (`--kubeconfig`, else
//! every file of `$KUBECONFIG`, else `~/.kube/config`), merged, and client-go's override
//! flags (`--context`, `--cluster`, `--user`, `--server`, `--token`, `--as`, ...) applied
//! with client-go's precedence. Nothing here contacts a cluster: the result is either the
//! context's namespace (for an input Secret without one) or a [`Target`], one cluster and
//! one user, which `cluster` connects to.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use kube::config::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};
use serde_json::Value;

use crate::io::{self, Limit};

/// How the kubeconfig is found and which parts of it are used: `--kubeconfig`, `--context`,
/// `--cluster`, `--user`, and the flags that override single fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub path: Option<PathBuf>,
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub overrides: Overrides,
}

/// client-go's `ConfigOverrides` for a cluster and a user: each flag given replaces the
/// kubeconfig's value. Empty flag values are unset, as in client-go.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub server: Option<String>,
    pub tls_server_name: Option<String>,
    pub certificate_authority: Option<String>,
    pub insecure_skip_tls_verify: bool,
    pub proxy_url: Option<String>,
    pub token: Option<String>,
    pub client_certificate: Option<String>,
    pub client_key: Option<String>,
    pub impersonate: Option<String>,
    pub impersonate_uid: Option<String>,
    pub impersonate_groups: Vec<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Credentials never reach a log line or an error through `{:?}`.
impl fmt::Debug for Overrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("Overrides")
            .field("server", &self.server)
            .field("tls_server_name", &self.tls_server_name)
            .field("certificate_authority", &self.certificate_authority)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("proxy_url", &self.proxy_url)
            .field("token", &redacted(&self.token))
            .field("client_certificate", &self.client_certificate)
            .field("client_key", &self.client_key)
            .field("impersonate", &self.impersonate)
            .field("impersonate_uid", &self.impersonate_uid)
            .field("impersonate_groups", &self.impersonate_groups)
            .field("username", &self.username)
            .field("password", &redacted(&self.password))
            .finish()
    }
}

/// The merged kubeconfig files.
#[derive(Debug, Default)]
struct Loaded {
    config: Kubeconfig,
    files: Vec<PathBuf>,
}

impl Loaded {
    /// How errors name the kubeconfig: its files, as kubectl lists them.
    fn describe(&self) -> String {
        match self.files.as_slice() {
            [] => "the kubeconfig (none found)".to_owned(),
            files => {
                let names: Vec<_> = files.iter().map(|p| p.display().to_string()).collect();
                format!("kubeconfig {}", names.join(":"))
            }
        }
    }

    fn context(&self, name: &str) -> Option<&Context> {
        self.config
            .contexts
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.context.as_ref())
    }

    fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.config
            .clusters
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.cluster.as_ref())
    }

    fn user(&self, name: &str) -> Option<&AuthInfo> {
        self.config
            .auth_infos
            .iter()
            .find(|u| u.name == name)
            .and_then(|u| u.auth_info.as_ref())
    }
}

/// The files client-go would load: `--kubeconfig`, else each of `$KUBECONFIG` (`:`-separated;
/// missing ones skipped), else `~/.kube/config` if it exists.
fn files(sel: &Selection) -> Result<Vec<PathBuf>> {
    if let Some(path) = &sel.path {
        if !path.exists() {
            return Err(anyhow!(
                "kubeconfig {}: no such file or directory",
                path.display()
            ));
        }
        return Ok(vec![path.clone()]);
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let mut seen = Vec::new();
        for p in std::env::split_paths(&list).filter(|p| p.is_file()) {
            // client-go loads a file listed twice once.
            if !seen.contains(&p) {
                seen.push(p);
            }
        }
        return Ok(seen);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    Ok(home
        .map(|h| h.join(".kube").join("config"))
        .filter(|p| p.is_file())
        .into_iter()
        .collect())
}

fn load(sel: &Selection) -> Result<Loaded> {
    let files = files(sel)?;
    let mut config = Kubeconfig::default();
    for path in &files {
        merge(&mut config, parse_file(path)?);
    }
    Ok(Loaded { config, files })
}

/// client-go's merge: the first file to define a cluster, user or context wins it whole, and
/// the first non-empty current-context wins.
fn merge(into: &mut Kubeconfig, next: Kubeconfig) {
    fn append<T>(base: &mut Vec<T>, next: Vec<T>, name: impl Fn(&T) -> &str) {
        for item in next {
            if !base.iter().any(|b| name(b) == name(&item)) {
                base.push(item);
            }
        }
    }
    append(&mut into.clusters, next.clusters, |c| &c.name);
    append(&mut into.auth_infos, next.auth_infos, |u| &u.name);
    append(&mut into.contexts, next.contexts, |c| &c.name);
    if into.current_context.is_none() {
        into.current_context = next.current_context;
    }
}

fn parse_file(path: &Path) -> Result<Kubeconfig> {
    let bytes = io::read_file(path, Limit::KUBECONFIG)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|_| anyhow!("kubeconfig {}: not UTF-8", path.display()))?;
    let mut config = parse(text).map_err(|e| anyhow!("kubeconfig {}: {e}", path.display()))?;
    if let Some(dir) = path.parent() {
        resolve_paths(&mut config, dir);
    }
    Ok(config)
}

/// One kubeconfig document. client-go reads what it knows and skips the rest, and leaves
/// out what is missing; kube's types want a context's cluster and every entry's name, so
/// those default to empty here, as they are in Go.
fn parse(text: &str) -> Result<Kubeconfig, String> {
    if text.trim().is_empty() {
        return Ok(Kubeconfig::default());
    }
    let value = serde_saphyr::from_str::<Option<Value>>(text)
        .map_err(|e| e.to_string().lines().next().unwrap_or_default().to_owned())?;
    let Some(mut value) = value else {
        return Ok(Kubeconfig::default());
    };
    let Value::Object(obj) = &mut value else {
        return Err("not a kubeconfig: expected a mapping".to_owned());
    };
    for (list, inner) in [
        ("clusters", None),
        ("users", None),
        ("contexts", Some("context")),
    ] {
        let Some(Value::Array(items)) = obj.get_mut(list) else {
            continue;
        };
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            item.entry("name")
                .or_insert_with(|| Value::String(String::new()));
            if let Some(Value::Object(context)) = inner.and_then(|k| item.get_mut(k)) {
                context
                    .entry("cluster")
                    .or_insert_with(|| Value::String(String::new()));
            }
        }
    }
    let mut config: Kubeconfig = serde_json::from_value(value).map_err(|e| e.to_string())?;
    config.current_context = config.current_context.filter(|c| !c.is_empty());
    Ok(config)
}

/// Relative file references are relative to the kubeconfig file that holds them, as in
/// client-go (`ResolveLocalPaths`); an exec command only when it has a `/` (a bare name is
/// looked up on PATH).
fn resolve_paths(config: &mut Kubeconfig, dir: &Path) {
    let resolve = |p: &mut Option<String>| {
        if let Some(path) = p.as_mut()
            && !path.is_empty()
            && Path::new(path.as_str()).is_relative()
        {
            *path = dir.join(&*path).display().to_string();
        }
    };
    for cluster in config
        .clusters
        .iter_mut()
        .filter_map(|c| c.cluster.as_mut())
    {
        resolve(&mut cluster.certificate_authority);
    }
    for user in config
        .auth_infos
        .iter_mut()
        .filter_map(|u| u.auth_info.as_mut())
    {
        resolve(&mut user.client_certificate);
        resolve(&mut user.client_key);
        resolve(&mut user.token_file);
        if let Some(exec) = user.exec.as_mut()
            && exec.command.as_deref().is_some_and(|c| c.contains('/'))
        {
            resolve(&mut exec.command);
        }
    }
}

/// The namespace of the selected context, if any kubeconfig sets one. As in client-go's merge,
/// the first file that names a current context, and the first definition of a context, win.
pub fn context_namespace(sel: &Selection) -> Result<Option<String>> {
    let loaded = load(sel)?;
    let Some(current) = sel
        .context
        .clone()
        .or(loaded.config.current_context.clone())
    else {
        return Ok(None);
    };
    Ok(loaded
        .context(&current)
        .and_then(|c| c.namespace.clone())
        .filter(|ns| !ns.is_empty()))
}

/// Where `cluster` connects: one cluster and one user, every override applied.
#[derive(Debug)]
pub enum Target {
    /// From the kubeconfig and the flags: a kubeconfig holding just that cluster, user and
    /// context (named [`Target::NAME`]), for kube's loader (which reads the files it names,
    /// and runs exec plugins).
    Kubeconfig {
        config: Box<Kubeconfig>,
        /// The API server URL.
        server: String,
        /// Where the settings came from, for errors: `kubeconfig context "x"` or `--server`.
        origin: String,
        /// The kubeconfig's `proxy-url` or `--proxy-url`; without one, the environment's.
        proxy: Option<String>,
    },
    /// No kubeconfig and no `--server`, inside a Pod: its ServiceAccount, as client-go's
    /// in-cluster fallback.
    InCluster,
}

impl Target {
    pub const NAME: &'static str = "seal";
}

/// The cluster and user to talk to, as client-go's `DirectClientConfig.ClientConfig` picks
/// them: the context (`--context`, else the current context), its cluster and user (or
/// `--cluster`, `--user`), each field overridden by its flag.
pub fn target(sel: &Selection) -> Result<Target> {
    let loaded = load(sel)?;
    let o = &sel.overrides;

    // A name given on the command line must exist; one taken from the kubeconfig need not
    // (client-go then starts from an empty context, cluster or user).
    let context_name = sel
        .context
        .clone()
        .or(loaded.config.current_context.clone());
    let context =
        match (&sel.context, &context_name) {
            (Some(name), _) => Some(loaded.context(name).ok_or_else(|| {
                anyhow!("{}: context {name:?} does not exist", loaded.describe())
            })?),
            (None, Some(name)) => loaded.context(name),
            (None, None) => None,
        };
    let cluster_name = sel
        .cluster
        .clone()
        .or_else(|| context.map(|c| c.cluster.clone()))
        .filter(|c| !c.is_empty());
    let mut cluster = match (&sel.cluster, &cluster_name) {
        (Some(name), _) => loaded
            .cluster(name)
            .cloned()
            .ok_or_else(|| anyhow!("{}: cluster {name:?} does not exist", loaded.describe()))?,
        (None, Some(name)) => loaded.cluster(name).cloned().unwrap_or_default(),
        (None, None) => Cluster::default(),
    };
    let user_name = sel
        .user
        .clone()
        .or_else(|| context.and_then(|c| c.user.clone()))
        .filter(|u| !u.is_empty());
    let mut user = match (&sel.user, &user_name) {
        (Some(name), _) => loaded
            .user(name)
            .cloned()
            .ok_or_else(|| anyhow!("{}: user {name:?} does not exist", loaded.describe()))?,
        (None, Some(name)) => loaded.user(name).cloned().unwrap_or_default(),
        (None, None) => AuthInfo::default(),
    };

    let nothing_configured = loaded.files.is_empty()
        && o.server.is_none()
        && sel.context.is_none()
        && sel.cluster.is_none();
    if nothing_configured && in_cluster_possible() {
        return Ok(Target::InCluster);
    }

    apply_cluster_overrides(&mut cluster, o);
    apply_user_overrides(&mut user, o)?;

    let origin = match (&o.server, &context_name) {
        (Some(_), _) => "--server".to_owned(),
        (None, Some(name)) => format!("kubeconfig context {name:?}"),
        (None, None) => loaded.describe(),
    };
    let Some(server) = cluster.server.clone().filter(|s| !s.is_empty()) else {
        if nothing_configured {
            bail!(
                "no cluster to talk to: no kubeconfig found (--kubeconfig, $KUBECONFIG or \
                 ~/.kube/config) and no --server; to seal offline, pass --cert <file|url>"
            );
        }
        let what = match (&cluster_name, &context_name) {
            (Some(c), _) => format!("cluster {c:?} has no server"),
            (None, Some(ctx)) if context.is_none() => format!("context {ctx:?} does not exist"),
            (None, Some(ctx)) => format!("context {ctx:?} names no cluster"),
            (None, None) => "no current context".to_owned(),
        };
        bail!(
            "{}: {what}; pass --context, --cluster or --server, or --cert <file|url> to seal offline",
            loaded.describe()
        );
    };

    // client-go reads a server without a scheme as a host, and (with TLS settings, which a
    // real cluster has) as https.
    let server = if server.contains("://") {
        server
    } else {
        format!("https://{server}")
    };
    cluster.server = Some(server.clone());
    let proxy = cluster.proxy_url.clone().filter(|p| !p.is_empty());
    let name = Target::NAME.to_owned();
    let config = Kubeconfig {
        clusters: vec![NamedCluster {
            name: name.clone(),
            cluster: Some(cluster),
            ..NamedCluster::default()
        }],
        auth_infos: vec![NamedAuthInfo {
            name: name.clone(),
            auth_info: Some(user),
            ..NamedAuthInfo::default()
        }],
        contexts: vec![NamedContext {
            name: name.clone(),
            context: Some(Context {
                cluster: name.clone(),
                user: Some(name.clone()),
                namespace: context.and_then(|c| c.namespace.clone()),
                ..Context::default()
            }),
            ..NamedContext::default()
        }],
        current_context: Some(name),
        ..Kubeconfig::default()
    };
    Ok(Target::Kubeconfig {
        config: Box::new(config),
        server,
        origin,
        proxy,
    })
}

/// client-go's `inClusterClientConfig.Possible`: the Service environment variables and the
/// ServiceAccount token are there.
fn in_cluster_possible() -> bool {
    let set = |v: &str| std::env::var_os(v).is_some_and(|v| !v.is_empty());
    set("KUBERNETES_SERVICE_HOST")
        && set("KUBERNETES_SERVICE_PORT")
        && Path::new("/var/run/secrets/kubernetes.io/serviceaccount/token").is_file()
}

/// client-go's `getCluster`: a flag replaces the field; `--certificate-authority` or
/// `--insecure-skip-tls-verify` replace all three TLS trust fields (so one does not conflict
/// with the other from the kubeconfig); `--server` also resets the kubeconfig's
/// tls-server-name, which belongs to the kubeconfig's server.
fn apply_cluster_overrides(cluster: &mut Cluster, o: &Overrides) {
    if let Some(server) = &o.server {
        cluster.server = Some(server.clone());
    }
    if o.insecure_skip_tls_verify || o.certificate_authority.is_some() {
        cluster.insecure_skip_tls_verify = Some(o.insecure_skip_tls_verify);
        cluster.certificate_authority = o.certificate_authority.clone();
        cluster.certificate_authority_data = None;
    }
    if o.tls_server_name.is_some() || o.server.is_some() {
        cluster.tls_server_name = o.tls_server_name.clone();
    }
    if let Some(proxy) = &o.proxy_url {
        cluster.proxy_url = Some(proxy.clone());
    }
}

/// client-go's `getAuthInfo`: a flag replaces the field, and a client certificate or key
/// given as a file replaces the kubeconfig's embedded one too.
fn apply_user_overrides(user: &mut AuthInfo, o: &Overrides) -> Result<()> {
    if let Some(token) = &o.token {
        user.token = Some(token.clone().into());
        user.token_file = None;
    }
    if let Some(cert) = &o.client_certificate {
        user.client_certificate = Some(cert.clone());
        user.client_certificate_data = None;
    }
    if let Some(key) = &o.client_key {
        user.client_key = Some(key.clone());
        user.client_key_data = None;
    }
    if let Some(name) = &o.username {
        user.username = Some(name.clone());
    }
    if let Some(password) = &o.password {
        user.password = Some(password.clone().into());
    }
    if let Some(name) = &o.impersonate {
        user.impersonate = Some(name.clone());
    }
    if let Some(uid) = &o.impersonate_uid {
        user.impersonate_uid = Some(uid.clone());
    }
    if !o.impersonate_groups.is_empty() {
        user.impersonate_groups = Some(o.impersonate_groups.clone());
    }
    // client-go impersonates only with a user name and silently drops groups and UID
    // without one; say so instead.
    if user.impersonate.as_deref().is_none_or(str::is_empty) {
        if user
            .impersonate_groups
            .as_ref()
            .is_some_and(|g| !g.is_empty())
        {
            bail!("--as-group needs --as (the user to impersonate)");
        }
        if user
            .impersonate_uid
            .as_deref()
            .is_some_and(|u| !u.is_empty())
        {
            bail!("--as-uid needs --as (the user to impersonate)");
        }
    }
    Ok(())
}

/// The proxy for `server` from the environment when neither the kubeconfig nor
/// `--proxy-url` names one, as Go's `http.ProxyFromEnvironment` picks it: `HTTPS_PROXY`
/// (for an https server) or `HTTP_PROXY`, upper case first; never for localhost or a
/// loopback address; not for hosts `NO_PROXY` matches (`*`, a host or domain suffix, an IP
/// address or CIDR range, each optionally with a port).
pub fn env_proxy(server: &http::Uri, env: impl Fn(&str) -> Option<String>) -> Option<String> {
    let get = |names: [&str; 2]| {
        names
            .into_iter()
            .find_map(|n| env(n).filter(|v| !v.is_empty()))
    };
    let https = server.scheme_str() == Some("https");
    let proxy = if https {
        get(["HTTPS_PROXY", "https_proxy"])
    } else {
        get(["HTTP_PROXY", "http_proxy"])
    }?;
    let host = server.host()?.trim_start_matches('[').trim_end_matches(']');
    let host = host.to_ascii_lowercase();
    let port = server.port_u16().unwrap_or(if https { 443 } else { 80 });
    let ip = host.parse::<std::net::IpAddr>().ok();
    if host == "localhost" || ip.is_some_and(|ip| ip.is_loopback()) {
        return None;
    }
    let no_proxy = get(["NO_PROXY", "no_proxy"]).unwrap_or_default();
    let excluded = no_proxy.split(',').map(str::trim).any(|entry| {
        if entry.is_empty() {
            return false;
        }
        if entry == "*" {
            return true;
        }
        if let Some((net, bits)) = entry.split_once('/') {
            return ip.is_some_and(|ip| in_cidr(ip, net, bits));
        }
        let (name, entry_port) = split_host_port(entry);
        if entry_port.is_some_and(|p| p != port) {
            return false;
        }
        let name = name.to_ascii_lowercase();
        if let Ok(entry_ip) = name.parse::<std::net::IpAddr>() {
            return ip == Some(entry_ip);
        }
        let name = name.trim_start_matches("*.").trim_start_matches('.');
        host == name || host.ends_with(&format!(".{name}"))
    });
    (!excluded).then_some(proxy)
}

fn split_host_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        // [v6]:port
        return match rest.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (entry, None),
        };
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, port.parse().ok()),
        _ => (entry, None),
    }
}

fn in_cidr(ip: std::net::IpAddr, net: &str, bits: &str) -> bool {
    use std::net::IpAddr;
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(PathBuf);
    impl Dir {
        fn new(name: &str) -> Dir {
            let dir =
                std::env::temp_dir().join(format!("seal-kubeconfig-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Dir(dir)
        }
        fn write(&self, name: &str, text: &str) -> PathBuf {
            let p = self.0.join(name);
            std::fs::write(&p, text).unwrap();
            p
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const CONFIG: &str = "apiVersion: v1\nkind: Config\ncurrent-context: dev\n\
        clusters:\n\
        - name: c1\n  cluster:\n    server: https://one.example:6443\n    certificate-authority: ca.crt\n    tls-server-name: one\n\
        - name: c2\n  cluster:\n    server: https://two.example:6443\n    insecure-skip-tls-verify: true\n\
        users:\n\
        - name: u1\n  user:\n    token: t1\n\
        - name: u2\n  user:\n    client-certificate-data: Y2VydA==\n    client-key-data: a2V5\n\
        contexts:\n\
        - name: dev\n  context:\n    cluster: c1\n    user: u1\n    namespace: team-a\n\
        - name: prod\n  context:\n    cluster: c2\n    user: u2\n\
        - name: bare\n  context:\n    namespace: only-ns\n";

    fn select(path: &Path) -> Selection {
        Selection {
            path: Some(path.to_owned()),
            ..Selection::default()
        }
    }

    fn parts(t: Target) -> (Cluster, AuthInfo, Context, String, String) {
        let Target::Kubeconfig {
            config,
            server,
            origin,
            ..
        } = t
        else {
            panic!("expected a kubeconfig target");
        };
        let config = *config;
        (
            config.clusters[0].cluster.clone().unwrap(),
            config.auth_infos[0].auth_info.clone().unwrap(),
            config.contexts[0].context.clone().unwrap(),
            server,
            origin,
        )
    }

    #[test]
    fn reads_current_context_namespace_and_context_override() {
        let dir = Dir::new("ns");
        let path = dir.write("config", CONFIG);
        let mut sel = select(&path);
        assert_eq!(context_namespace(&sel).unwrap().as_deref(), Some("team-a"));
        sel.context = Some("prod".into());
        assert_eq!(context_namespace(&sel).unwrap(), None);
        sel.context = Some("bare".into());
        assert_eq!(context_namespace(&sel).unwrap().as_deref(), Some("only-ns"));
        sel.context = Some("missing".into());
        assert_eq!(context_namespace(&sel).unwrap(), None);
    }

    #[test]
    fn the_current_context_and_relative_paths() {
        let dir = Dir::new("current");
        let path = dir.write("config", CONFIG);
        let (cluster, user, context, server, origin) = parts(target(&select(&path)).unwrap());
        assert_eq!(server, "https://one.example:6443");
        assert_eq!(origin, "kubeconfig context \"dev\"");
        assert_eq!(
            cluster.certificate_authority.as_deref(),
            Some(dir.0.join("ca.crt").to_str().unwrap()),
            "relative to the kubeconfig file"
        );
        assert_eq!(cluster.tls_server_name.as_deref(), Some("one"));
        assert!(user.token.is_some());
        assert_eq!(context.namespace.as_deref(), Some("team-a"));
        assert_eq!(context.cluster, Target::NAME);
    }

    #[test]
    fn context_cluster_and_user_flags() {
        let dir = Dir::new("flags");
        let path = dir.write("config", CONFIG);
        let mut sel = select(&path);
        sel.context = Some("prod".into());
        let (cluster, user, ..) = parts(target(&sel).unwrap());
        assert_eq!(cluster.server.as_deref(), Some("https://two.example:6443"));
        assert_eq!(cluster.insecure_skip_tls_verify, Some(true));
        assert!(user.client_certificate_data.is_some());

        let mut sel = select(&path);
        sel.cluster = Some("c2".into());
        sel.user = Some("u2".into());
        let (cluster, user, context, ..) = parts(target(&sel).unwrap());
        assert_eq!(cluster.server.as_deref(), Some("https://two.example:6443"));
        assert!(user.token.is_none());
        assert_eq!(context.namespace.as_deref(), Some("team-a"), "still dev's");

        for (field, value, what) in [
            ("context", "nope", "context \"nope\" does not exist"),
            ("cluster", "nope", "cluster \"nope\" does not exist"),
            ("user", "nope", "user \"nope\" does not exist"),
        ] {
            let mut sel = select(&path);
            match field {
                "context" => sel.context = Some(value.into()),
                "cluster" => sel.cluster = Some(value.into()),
                _ => sel.user = Some(value.into()),
            }
            let err = target(&sel).unwrap_err().to_string();
            assert_eq!(err, format!("kubeconfig {}: {what}", path.display()));
        }
    }

    #[test]
    fn field_overrides_follow_client_go() {
        let dir = Dir::new("overrides");
        let path = dir.write("config", CONFIG);
        let mut sel = select(&path);
        sel.overrides = Overrides {
            server: Some("https://other:443".into()),
            token: Some("t2".into()),
            impersonate: Some("alice".into()),
            impersonate_groups: vec!["g1".into(), "g2".into()],
            impersonate_uid: Some("42".into()),
            ..Overrides::default()
        };
        let (cluster, user, _, server, origin) = parts(target(&sel).unwrap());
        assert_eq!(server, "https://other:443");
        assert_eq!(origin, "--server");
        assert_eq!(
            cluster.tls_server_name, None,
            "--server resets tls-server-name"
        );
        assert!(
            cluster.certificate_authority.is_some(),
            "the CA stays: --server alone does not change trust"
        );
        assert_eq!(serde_json::to_value(&user).unwrap()["token"], "t2");
        assert_eq!(user.impersonate.as_deref(), Some("alice"));
        assert_eq!(user.impersonate_groups.unwrap(), ["g1", "g2"]);
        assert_eq!(user.impersonate_uid.as_deref(), Some("42"));

        // --insecure-skip-tls-verify drops the kubeconfig's CA; --certificate-authority
        // replaces it and turns the skip off.
        let mut sel = select(&path);
        sel.overrides.insecure_skip_tls_verify = true;
        let (cluster, ..) = parts(target(&sel).unwrap());
        assert_eq!(cluster.insecure_skip_tls_verify, Some(true));
        assert_eq!(cluster.certificate_authority, None);
        let mut sel = select(&path);
        sel.context = Some("prod".into());
        sel.overrides.certificate_authority = Some("/etc/ca.pem".into());
        sel.overrides.tls_server_name = Some("api".into());
        sel.overrides.proxy_url = Some("socks5://127.0.0.1:1080".into());
        sel.overrides.client_certificate = Some("/c.pem".into());
        sel.overrides.client_key = Some("/k.pem".into());
        let (cluster, user, ..) = parts(target(&sel).unwrap());
        assert_eq!(cluster.insecure_skip_tls_verify, Some(false));
        assert_eq!(
            cluster.certificate_authority.as_deref(),
            Some("/etc/ca.pem")
        );
        assert_eq!(cluster.tls_server_name.as_deref(), Some("api"));
        assert_eq!(
            cluster.proxy_url.as_deref(),
            Some("socks5://127.0.0.1:1080")
        );
        assert_eq!(user.client_certificate.as_deref(), Some("/c.pem"));
        assert_eq!(
            user.client_certificate_data, None,
            "the file replaces the data"
        );
        assert_eq!(user.client_key.as_deref(), Some("/k.pem"));
        assert!(user.client_key_data.is_none());

        let mut sel = select(&path);
        sel.overrides.impersonate_groups = vec!["g".into()];
        assert_eq!(
            target(&sel).unwrap_err().to_string(),
            "--as-group needs --as (the user to impersonate)"
        );
    }

    #[test]
    fn kubeconfig_list_merges_first_wins() {
        let dir = Dir::new("merge");
        let a = dir.write(
            "a",
            "contexts:\n- name: dev\n  context:\n    cluster: c1\n    namespace: from-a\n",
        );
        let b = dir.write("b", CONFIG);
        let mut loaded = Kubeconfig::default();
        merge(&mut loaded, parse_file(&a).unwrap());
        merge(&mut loaded, parse_file(&b).unwrap());
        assert_eq!(loaded.current_context.as_deref(), Some("dev"), "from b");
        let dev = loaded.contexts.iter().find(|c| c.name == "dev").unwrap();
        assert_eq!(
            dev.context.as_ref().unwrap().namespace.as_deref(),
            Some("from-a"),
            "a defined dev first"
        );
        assert_eq!(loaded.contexts.len(), 3);
    }

    #[test]
    fn lenient_like_client_go() {
        for text in [
            "",
            "---\n",
            "contexts: null\nclusters: ~\n",
            "contexts:\n- context:\n    namespace: x\n",
            "current-context: \"\"\nusers:\n- name: u\n",
        ] {
            parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        }
        assert!(parse("[1, 2]").unwrap_err().contains("expected a mapping"));
        assert!(parse("contexts: 5\n").is_err());
    }

    #[test]
    fn no_server_anywhere() {
        let dir = Dir::new("noserver");
        let path = dir.write(
            "config",
            "current-context: x\ncontexts:\n- name: x\n  context: {}\n",
        );
        let err = target(&select(&path)).unwrap_err().to_string();
        assert!(err.contains("context \"x\" names no cluster"), "{err}");
        let path = dir.write("empty", "");
        let err = target(&select(&path)).unwrap_err().to_string();
        assert!(err.contains("no current context"), "{err}");
        // A server flag is enough on its own; without a scheme, it is https.
        let mut sel = select(&path);
        sel.overrides.server = Some("127.0.0.1:1".into());
        let (cluster, _, _, server, _) = parts(target(&sel).unwrap());
        assert_eq!(server, "https://127.0.0.1:1");
        assert_eq!(cluster.server.as_deref(), Some("https://127.0.0.1:1"));
    }

    #[test]
    fn proxy_from_the_environment_as_go_picks_it() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let uri = |s: &str| s.parse::<http::Uri>().unwrap();
        let proxied = &[
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("http_proxy", "http://p2"),
        ];
        assert_eq!(
            env_proxy(&uri("https://api.example:6443"), env(proxied)).as_deref(),
            Some("http://proxy:3128")
        );
        assert_eq!(
            env_proxy(&uri("http://api.example"), env(proxied)).as_deref(),
            Some("http://p2")
        );
        for loopback in [
            "https://127.0.0.1:6443",
            "https://localhost",
            "https://[::1]:1",
        ] {
            assert_eq!(env_proxy(&uri(loopback), env(proxied)), None, "{loopback}");
        }
        let excluded = &[
            ("HTTPS_PROXY", "http://proxy:3128"),
            (
                "NO_PROXY",
                "10.0.0.0/8, .corp.example,api.other:6443,[fd00::1]",
            ),
        ];
        for host in [
            "https://10.1.2.3:6443",
            "https://k8s.corp.example",
            "https://corp.example",
            "https://api.other:6443",
            "https://[fd00::1]:6443",
        ] {
            assert_eq!(env_proxy(&uri(host), env(excluded)), None, "{host}");
        }
        for host in [
            "https://11.0.0.1",
            "https://api.other:443",
            "https://xcorp.example",
        ] {
            assert!(env_proxy(&uri(host), env(excluded)).is_some(), "{host}");
        }
        let all = &[("HTTPS_PROXY", "http://proxy"), ("no_proxy", "*")];
        assert_eq!(env_proxy(&uri("https://a.b"), env(all)), None);
    }
}
