//! Just enough kubeconfig to find the current context's namespace, which kubeseal uses for an
//! input Secret without one. No cluster is contacted.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use serde::Deserialize;

use crate::io::{self, Limit};

/// How the kubeconfig is found (`--kubeconfig`, `--context`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub path: Option<PathBuf>,
    pub context: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct KubeConfig {
    #[serde(rename = "current-context", default)]
    current_context: Option<String>,
    #[serde(default)]
    contexts: Option<Vec<NamedContext>>,
}

#[derive(Debug, Deserialize)]
struct NamedContext {
    #[serde(default)]
    name: String,
    #[serde(default)]
    context: Option<Context>,
}

#[derive(Debug, Deserialize)]
struct Context {
    #[serde(default)]
    namespace: Option<String>,
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
        return Ok(std::env::split_paths(&list)
            .filter(|p| p.is_file())
            .collect());
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    Ok(home
        .map(|h| h.join(".kube").join("config"))
        .filter(|p| p.is_file())
        .into_iter()
        .collect())
}

fn load(path: &Path) -> Result<KubeConfig> {
    let bytes = io::read_file(path, Limit::KUBECONFIG)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow!("kubeconfig {}: not UTF-8", path.display()))?;
    if text.trim().is_empty() {
        return Ok(KubeConfig::default());
    }
    serde_saphyr::from_str::<Option<KubeConfig>>(&text)
        .map(Option::unwrap_or_default)
        .map_err(|e| {
            anyhow!(
                "kubeconfig {}: {}",
                path.display(),
                e.to_string().lines().next().unwrap_or_default()
            )
        })
}

/// The namespace of the selected context, if any kubeconfig sets one. As in client-go's merge,
/// the first file that names a current context, and the first definition of a context, win.
pub fn context_namespace(sel: &Selection) -> Result<Option<String>> {
    let configs = files(sel)?
        .iter()
        .map(|p| load(p))
        .collect::<Result<Vec<_>>>()?;
    let current = sel.context.clone().or_else(|| {
        configs
            .iter()
            .find_map(|c| c.current_context.clone().filter(|s| !s.is_empty()))
    });
    let Some(current) = current else {
        return Ok(None);
    };
    let namespace = configs
        .iter()
        .flat_map(|c| c.contexts.iter().flatten())
        .find(|c| c.name == current)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.namespace.clone())
        .filter(|ns| !ns.is_empty());
    Ok(namespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_current_context_namespace_and_context_override() {
        let dir = std::env::temp_dir().join(format!("seal-kubeconfig-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\ncurrent-context: dev\nclusters: []\ncontexts:\n\
             - name: dev\n  context:\n    cluster: c\n    namespace: team-a\n\
             - name: prod\n  context:\n    cluster: c\n",
        )
        .unwrap();
        let mut sel = Selection {
            path: Some(path),
            context: None,
        };
        assert_eq!(context_namespace(&sel).unwrap().as_deref(), Some("team-a"));
        sel.context = Some("prod".into());
        assert_eq!(context_namespace(&sel).unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
