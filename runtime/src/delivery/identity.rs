//! Who may do what: users, their roles per environment, bearer tokens (only their
//! SHA-256 is ever stored) and the approval groups of `weft.toml`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a user may do in an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Deploys artifacts, requests promotions, rolls back.
    Deployer,
    /// Approves or rejects promotions into the environment.
    Approver,
    /// Everything, including managing users (admin of `*`).
    Admin,
}

impl Role {
    /// The name used on the command line and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Deployer => "deployer",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// Parses a role name.
    pub fn parse(text: &str) -> Option<Role> {
        [Role::Deployer, Role::Approver, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// A role in one environment, or in every environment (`*`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The environment, or `*` for all.
    pub environment: String,
}

impl Grant {
    /// Parses `ROLE` (every environment) or `ROLE:ENV`.
    pub fn parse(text: &str) -> Result<Grant, String> {
        let (role, environment) = text.split_once(':').unwrap_or((text, "*"));
        let role = Role::parse(role).ok_or_else(|| {
            format!("unknown role `{role}` (expected deployer, approver or admin, optionally :ENV)")
        })?;
        if environment.is_empty() {
            return Err(format!("`{text}`: empty environment after `:`"));
        }
        Ok(Grant {
            role,
            environment: environment.to_string(),
        })
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.role.as_str(), self.environment)
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The user's name, as in `weft.toml` groups.
    pub name: String,
    /// What the user may do.
    pub grants: Vec<Grant>,
}

impl Identity {
    /// Whether the user holds `role` in `environment` (an admin holds every role).
    pub fn may(&self, role: Role, environment: &str) -> bool {
        self.grants.iter().any(|g| {
            (g.role == role || g.role == Role::Admin)
                && (g.environment == "*" || g.environment == environment)
        })
    }

    /// Whether the user administers everything (manages users).
    pub fn is_admin(&self) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == Role::Admin && g.environment == "*")
    }
}

/// Approval groups by project name, each a map of group name to member user names.
pub type Groups = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// Whether `user` is a member of `group` in `project`'s groups.
pub fn in_group(groups: &Groups, project: &str, group: &str, user: &str) -> bool {
    groups
        .get(project)
        .and_then(|g| g.get(group))
        .is_some_and(|members| members.iter().any(|m| m == user))
}

/// A new bearer token: 32 random bytes from the operating system, hex-encoded, with a
/// `weft_` prefix so that secret scanners can recognise it.
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a token: {e}"))?;
    Ok(format!("weft_{}", hex(&bytes)))
}

/// What is stored for a token: the hex SHA-256 of its text.
pub fn token_hash(token: &str) -> String {
    hex(Sha256::digest(token.as_bytes()).as_slice())
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_do_not_reveal_them() {
        let a = new_token().unwrap_or_default();
        let b = new_token().unwrap_or_default();
        assert_eq!(a.len(), 5 + 64);
        assert_ne!(a, b);
        let hash = token_hash(&a);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&a[5..]));
        assert_eq!(hash, token_hash(&a));
    }

    #[test]
    fn grants_parse_and_admin_holds_every_role() {
        let admin = Identity {
            name: "root".into(),
            grants: vec![Grant::parse("admin").unwrap_or_else(|e| panic!("{e}"))],
        };
        assert!(admin.may(Role::Approver, "prod") && admin.is_admin());
        let bob = Identity {
            name: "bob".into(),
            grants: vec![
                Grant::parse("approver:prod").unwrap_or_else(|e| panic!("{e}")),
                Grant::parse("deployer:dev").unwrap_or_else(|e| panic!("{e}")),
            ],
        };
        assert!(bob.may(Role::Approver, "prod"));
        assert!(!bob.may(Role::Approver, "staging"));
        assert!(!bob.may(Role::Deployer, "prod"));
        assert!(!bob.is_admin());
        assert!(Grant::parse("owner:prod").is_err());
        assert!(Grant::parse("deployer:").is_err());
    }
}
