//! Printing objects exactly as kubeseal does, pure (documents in, bytes out; `io` writes
//! them).
//!
//! kubeseal prints Go structs: JSON keeps the struct field order (`kind` before `apiVersion`,
//! ObjectMeta in Go order) and omits empty fields; YAML is that JSON passed through
//! sigs.k8s.io/yaml, which sorts keys the yaml.v2 way. Both are built here from one ordered
//! tree, [`Node`], so the two formats cannot drift apart.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::ser::{SerializeMap as _, SerializeSeq as _};
use serde::{Serialize, Serializer};
use shared::SealedSecret;

/// Output format of the printed objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    /// `-o`'s value: `json` (also empty) or `yaml`, in any case.
    pub fn parse(s: &str) -> Result<Format> {
        match s.to_ascii_lowercase().as_str() {
            "json" | "" => Ok(Format::Json),
            "yaml" => Ok(Format::Yaml),
            _ => bail!("unsupported output format: {s}"),
        }
    }

    /// `.yaml`/`.yml` means YAML, `.json` JSON, anything else says nothing.
    pub fn from_extension(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// A JSON value whose maps keep the order they were built in.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Number(n) => n.serialize(s),
            Node::Str(v) => s.serialize_str(v),
            Node::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl From<&serde_json::Value> for Node {
    fn from(v: &serde_json::Value) -> Node {
        match v {
            serde_json::Value::Null => Node::Null,
            serde_json::Value::Bool(b) => Node::Bool(*b),
            serde_json::Value::Number(n) => Node::Number(n.clone()),
            serde_json::Value::String(s) => Node::Str(s.clone()),
            serde_json::Value::Array(a) => Node::Seq(a.iter().map(Node::from).collect()),
            // Go's encoding/json writes map keys sorted, whatever order they were read in.
            serde_json::Value::Object(o) => {
                let mut entries: Vec<_> =
                    o.iter().map(|(k, v)| (k.clone(), Node::from(v))).collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Node::Map(entries)
            }
        }
    }
}

/// Builds a Go struct's JSON: fields in order, `omitempty` ones skipped when empty.
#[derive(Default)]
struct Obj(Vec<(String, Node)>);

impl Obj {
    fn node(mut self, key: &str, value: Node) -> Self {
        self.0.push((key.to_owned(), value));
        self
    }
    fn str_omitempty(self, key: &str, value: Option<&String>) -> Self {
        match value {
            Some(v) if !v.is_empty() => self.node(key, Node::Str(v.clone())),
            _ => self,
        }
    }
    fn map_omitempty(self, key: &str, value: Option<&BTreeMap<String, String>>) -> Self {
        match value {
            Some(m) if !m.is_empty() => self.node(key, string_map(m)),
            _ => self,
        }
    }
    fn json_omitempty<T: Serialize>(self, key: &str, value: Option<&T>) -> Self {
        match value.map(serde_json::to_value) {
            Some(Ok(v)) if !is_empty_json(&v) => self.node(key, Node::from(&v)),
            _ => self,
        }
    }
    fn bool_omitempty(self, key: &str, value: Option<bool>) -> Self {
        // `*bool` with omitempty: only nil is omitted.
        match value {
            Some(b) => self.node(key, Node::Bool(b)),
            None => self,
        }
    }
    fn build(self) -> Node {
        Node::Map(self.0)
    }
}

fn is_empty_json(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::String(s) => s.is_empty(),
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(o) => o.is_empty(),
        serde_json::Value::Number(_) | serde_json::Value::Bool(_) => false,
    }
}

fn string_map(m: &BTreeMap<String, String>) -> Node {
    Node::Map(
        m.iter()
            .map(|(k, v)| (k.clone(), Node::Str(v.clone())))
            .collect(),
    )
}

/// ObjectMeta in Go field order; every field is `omitempty` and the zero creationTimestamp
/// is dropped, as kubeseal >= 0.32 prints it.
fn object_meta(meta: &ObjectMeta) -> Node {
    let owners = meta.owner_references.as_ref().filter(|o| !o.is_empty());
    let mut obj = Obj::default()
        .str_omitempty("name", meta.name.as_ref())
        .str_omitempty("generateName", meta.generate_name.as_ref())
        .str_omitempty("namespace", meta.namespace.as_ref())
        .str_omitempty("selfLink", meta.self_link.as_ref())
        .str_omitempty("uid", meta.uid.as_ref())
        .str_omitempty("resourceVersion", meta.resource_version.as_ref())
        // `generation` is a plain int64 in Go, so zero is omitted too.
        .json_omitempty("generation", meta.generation.filter(|g| *g != 0).as_ref())
        .json_omitempty("creationTimestamp", meta.creation_timestamp.as_ref())
        .json_omitempty("deletionTimestamp", meta.deletion_timestamp.as_ref())
        .json_omitempty(
            "deletionGracePeriodSeconds",
            meta.deletion_grace_period_seconds.as_ref(),
        )
        .map_omitempty("labels", meta.labels.as_ref())
        .map_omitempty("annotations", meta.annotations.as_ref());
    if let Some(owners) = owners {
        obj = obj.node(
            "ownerReferences",
            Node::Seq(owners.iter().map(owner_reference).collect()),
        );
    }
    if let Some(finalizers) = meta.finalizers.as_ref().filter(|f| !f.is_empty()) {
        obj = obj.node(
            "finalizers",
            Node::Seq(finalizers.iter().cloned().map(Node::Str).collect()),
        );
    }
    obj.json_omitempty("managedFields", meta.managed_fields.as_ref())
        .build()
}

/// OwnerReference in Go order; only the two `*bool` fields are `omitempty`.
fn owner_reference(o: &OwnerReference) -> Node {
    Obj::default()
        .node("apiVersion", Node::Str(o.api_version.clone()))
        .node("kind", Node::Str(o.kind.clone()))
        .node("name", Node::Str(o.name.clone()))
        .node("uid", Node::Str(o.uid.clone()))
        .bool_omitempty("controller", o.controller)
        .bool_omitempty("blockOwnerDeletion", o.block_owner_deletion)
        .build()
}

/// A SealedSecret as kubeseal's Go struct prints it. `spec.template` and its metadata are
/// plain structs in Go, so they are always printed; `encryptedData` has no `omitempty`.
pub fn sealed_secret_node(ss: &SealedSecret) -> Node {
    let template = ss.spec.template.clone().unwrap_or_default();
    let template = Obj::default()
        .node("metadata", object_meta(&template.metadata))
        .str_omitempty("type", template.type_.as_ref())
        .bool_omitempty("immutable", template.immutable)
        .map_omitempty("data", template.data.as_ref())
        .build();
    let mut spec = Obj::default().node("template", template);
    if let Some(blob) = ss.spec.data.as_ref().filter(|b| !b.0.is_empty()) {
        spec = spec.node("data", Node::Str(STANDARD.encode(&blob.0)));
    }
    let spec = spec
        .node("encryptedData", string_map(&ss.spec.encrypted_data))
        .build();
    Obj::default()
        .node("kind", Node::Str("SealedSecret".into()))
        .node("apiVersion", Node::Str("bitnami.com/v1alpha1".into()))
        .node("metadata", object_meta(&ss.metadata))
        .node("spec", spec)
        .json_omitempty("status", ss.status.as_ref())
        .build()
}

/// A core/v1 Secret in Go field order (kind, apiVersion, metadata, immutable, data,
/// stringData, type).
pub fn secret_node(secret: &Secret) -> Node {
    let mut obj = Obj::default()
        .node("kind", Node::Str("Secret".into()))
        .node("apiVersion", Node::Str("v1".into()))
        .node("metadata", object_meta(&secret.metadata))
        .bool_omitempty("immutable", secret.immutable);
    if let Some(data) = secret.data.as_ref().filter(|d| !d.is_empty()) {
        let data = data
            .iter()
            .map(|(k, v)| (k.clone(), Node::Str(STANDARD.encode(&v.0))))
            .collect();
        obj = obj.node("data", Node::Map(data));
    }
    obj.map_omitempty("stringData", secret.string_data.as_ref())
        .str_omitempty("type", secret.type_.as_ref())
        .build()
}

/// Renders documents the way kubeseal prints them.
pub fn render(docs: &[Node], format: Format) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for doc in docs {
        match format {
            Format::Json => {
                let mut ser =
                    serde_json::Serializer::with_formatter(&mut out, GoJsonFormatter::default());
                doc.serialize(&mut ser).context("encoding JSON")?;
                out.push(b'\n');
            }
            Format::Yaml => {
                out.extend_from_slice(b"---\n");
                out.extend_from_slice(to_yaml(doc)?.as_bytes());
            }
        }
    }
    Ok(out)
}

/// YAML as sigs.k8s.io/yaml prints it: keys sorted the yaml.v2 way, block style, 2-space
/// indent, list items flush with their key, and long strings on one line.
pub fn to_yaml(doc: &Node) -> Result<String> {
    let mut options = serde_saphyr::SerializerOptions::default();
    // Never fold: base64 ciphertexts are one long token and must stay on one line.
    options.folded_wrap_chars = usize::MAX;
    let mut text = serde_saphyr::to_string_with_options(&yaml_sorted(doc), options)
        .context("encoding YAML")?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

fn yaml_sorted(node: &Node) -> Node {
    match node {
        Node::Seq(items) => Node::Seq(items.iter().map(yaml_sorted).collect()),
        Node::Map(entries) => {
            let mut entries: Vec<_> = entries
                .iter()
                .map(|(k, v)| (k.clone(), yaml_sorted(v)))
                .collect();
            entries.sort_by(|a, b| yaml_v2_key_order(&a.0, &b.0));
            Node::Map(entries)
        }
        other => other.clone(),
    }
}

/// yaml.v2's map key order (its `keyList.Less`): letters compare as runes, a non-letter sorts
/// before a letter, and runs of digits compare as numbers, so `key9` comes before `key10`.
pub fn yaml_v2_key_order(a: &str, b: &str) -> Ordering {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let is_digit = |c: char| c.is_ascii_digit();
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn): (i128, i128) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            for j in (0..i).rev() {
                if !is_digit(ar[j]) {
                    break;
                }
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && is_digit(ar[ai]) {
            an = an
                .saturating_mul(10)
                .saturating_add(i128::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && is_digit(br[bi]) {
            bn = bn
                .saturating_mul(10)
                .saturating_add(i128::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

/// Go's `json.MarshalIndent`: 2-space indent, and strings escaped as Go escapes them
/// (`shared::go::json_escape`), which serde_json does not do on its own.
#[derive(Default)]
struct GoJsonFormatter {
    pretty: serde_json::ser::PrettyFormatter<'static>,
}

impl serde_json::ser::Formatter for GoJsonFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // serde_json passes quotes, backslashes and control characters to write_char_escape,
        // which escapes them as Go does; what is left for Go's rules is `<`, `>`, `&`, U+2028
        // and U+2029: the workspace's one Go JSON escaper.
        let mut escaped = Vec::with_capacity(fragment.len());
        shared::go::json_escape(fragment.as_bytes(), true, &mut escaped);
        writer.write_all(&escaped)
    }
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_v2_orders_numbers_naturally_and_non_letters_first() {
        let mut keys = vec!["key10", "key9", "aB", "a_", "a.b", "ab", "b", "A"];
        keys.sort_by(|a, b| yaml_v2_key_order(a, b));
        assert_eq!(keys, ["A", "a.b", "a_", "aB", "ab", "b", "key9", "key10"]);
    }

    #[test]
    fn json_escapes_html_like_go() {
        let doc = Node::Map(vec![("a".into(), Node::Str("<x> & y\u{2028}".into()))]);
        let out = String::from_utf8(render(&[doc], Format::Json).unwrap()).unwrap();
        assert_eq!(out, "{\n  \"a\": \"\\u003cx\\u003e \\u0026 y\\u2028\"\n}\n");
    }

    #[test]
    fn yaml_quotes_like_yaml_v2_for_common_values() {
        let doc = Node::Map(vec![
            ("s".into(), Node::Str("true".into())),
            ("e".into(), Node::Str(String::new())),
            ("l".into(), Node::Seq(vec![Node::Str("x".into())])),
            ("m".into(), Node::Str("a\nb\n".into())),
        ]);
        let out = String::from_utf8(render(&[doc], Format::Yaml).unwrap()).unwrap();
        assert_eq!(out, "---\ne: \"\"\nl:\n- x\nm: |\n  a\n  b\ns: \"true\"\n");
    }
}
