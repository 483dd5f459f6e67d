//! The pure core of sealed secrets, shared by the `seal` CLI and the `unsealer` controller.
//!
//! Data flows one way and nothing here does I/O: keys, time and the RNG are passed in.
//! - CLI: `Secret` -> [`seal::validate`] -> [`seal::seal`] -> [`SealedSecret`].
//! - Controller: [`SealedSecret`] -> [`unseal::unseal`] with a [`keys::KeyRing`] -> `Secret`.
//!
//! The wire format is byte-compatible with Bitnami sealed-secrets: see [`crypto`] and [`wire`].

pub mod crypto;
pub mod go;
pub mod key_list;
pub mod keys;
pub mod marks;
pub mod resource;
pub mod scope;
pub mod seal;
pub mod template;
pub mod text;
pub mod unseal;
pub mod wire;

pub use keys::{Certificate, KeyRing, PrivateKey, PublicKey};
pub use resource::{SealedSecret, SealedSecretSpec, SealedSecretStatus, SecretTemplateSpec};
pub use scope::Scope;
