//! SMART on FHIR system scopes ([SMART App Launch 2.x, scopes and launch
//! context](https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html)):
//! v2 `system/Patient.rs`, `system/*.cruds`, `system/Observation.rs?category=…`,
//! and v1 `system/*.read`, `system/Observation.write`, `system/*.*`.

use std::fmt;

/// What a scope permits: SMART v2's create, read, update, delete, search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Perms {
    /// `c`
    pub create: bool,
    /// `r`
    pub read: bool,
    /// `u`
    pub update: bool,
    /// `d`
    pub delete: bool,
    /// `s`
    pub search: bool,
}

impl Perms {
    /// Every permission.
    pub const ALL: Perms = Perms {
        create: true,
        read: true,
        update: true,
        delete: true,
        search: true,
    };

    fn parse(s: &str) -> Option<Perms> {
        // SMART v1 names.
        match s {
            "read" => {
                return Some(Perms {
                    read: true,
                    search: true,
                    ..Perms::default()
                })
            }
            "write" => {
                return Some(Perms {
                    create: true,
                    update: true,
                    delete: true,
                    ..Perms::default()
                })
            }
            "*" => return Some(Perms::ALL),
            _ => {}
        }
        // SMART v2: a non-empty subsequence of `cruds`, in that order.
        let mut p = Perms::default();
        let mut last = 0usize;
        for ch in s.chars() {
            let at = "cruds".find(ch)? + 1;
            if at <= last {
                return None;
            }
            last = at;
            match ch {
                'c' => p.create = true,
                'r' => p.read = true,
                'u' => p.update = true,
                'd' => p.delete = true,
                's' => p.search = true,
                _ => return None,
            }
        }
        (last > 0).then_some(p)
    }

    fn and(self, o: Perms) -> Perms {
        Perms {
            create: self.create && o.create,
            read: self.read && o.read,
            update: self.update && o.update,
            delete: self.delete && o.delete,
            search: self.search && o.search,
        }
    }

    fn is_empty(self) -> bool {
        self == Perms::default()
    }

    /// Whether every permission of `need` is here.
    pub fn covers(self, need: Perms) -> bool {
        self.and(need) == need
    }
}

impl fmt::Display for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (on, c) in [
            (self.create, 'c'),
            (self.read, 'r'),
            (self.update, 'u'),
            (self.delete, 'd'),
            (self.search, 's'),
        ] {
            if on {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// One system scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The resource type (None: `*`).
    pub resource_type: Option<String>,
    /// What it permits.
    pub perms: Perms,
    /// v2 restrictions (`?param=value&…`): only resources matching all of
    /// them.
    pub restriction: Vec<(String, String)>,
}

impl Scope {
    /// Parses one scope; None for anything that is not a system scope.
    ///
    /// # Examples
    /// ```
    /// use fhir_server::auth::scopes::Scope;
    /// let s = Scope::parse("system/Observation.rs?category=laboratory").unwrap();
    /// assert_eq!(s.resource_type.as_deref(), Some("Observation"));
    /// assert!(s.perms.read && s.perms.search && !s.perms.create);
    /// assert_eq!(s.restriction, vec![("category".to_string(), "laboratory".to_string())]);
    /// assert!(Scope::parse("patient/*.read").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Scope> {
        let rest = text.strip_prefix("system/")?;
        let (head, query) = match rest.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (rest, None),
        };
        let (rtype, perms) = head.split_once('.')?;
        let perms = Perms::parse(perms)?;
        let resource_type = match rtype {
            "*" => None,
            t if !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric()) => {
                Some(t.to_string())
            }
            _ => return None,
        };
        let restriction = match query {
            Some(q) => serde_urlencoded::from_str(q).ok()?,
            None => Vec::new(),
        };
        Some(Scope {
            resource_type,
            perms,
            restriction,
        })
    }

    /// What both this scope and `other` permit (the grant of a request
    /// against a registration), if anything.
    pub fn intersect(&self, other: &Scope) -> Option<Scope> {
        let resource_type = match (&self.resource_type, &other.resource_type) {
            (None, t) | (t, None) => t.clone(),
            (Some(a), Some(b)) if a == b => Some(a.clone()),
            _ => return None,
        };
        let perms = self.perms.and(other.perms);
        if perms.is_empty() {
            return None;
        }
        let mut restriction = self.restriction.clone();
        for r in &other.restriction {
            if !restriction.contains(r) {
                restriction.push(r.clone());
            }
        }
        Some(Scope {
            resource_type,
            perms,
            restriction,
        })
    }

    fn applies_to(&self, resource_type: &str) -> bool {
        self.resource_type
            .as_deref()
            .is_none_or(|t| t == resource_type)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "system/{}.{}",
            self.resource_type.as_deref().unwrap_or("*"),
            self.perms
        )?;
        if !self.restriction.is_empty() {
            write!(
                f,
                "?{}",
                serde_urlencoded::to_string(&self.restriction).unwrap_or_default()
            )?;
        }
        Ok(())
    }
}

/// A set of scopes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(pub Vec<Scope>);

/// How a set of scopes answers a need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    /// Not at all.
    No,
    /// For every resource of the type.
    Yes,
    /// Only for resources matching one of these restrictions.
    Restricted(Vec<Vec<(String, String)>>),
}

impl Scopes {
    /// Parses a space-separated scope string, ignoring what is not a
    /// system scope (`openid`, `launch`, …).
    pub fn parse(text: &str) -> Scopes {
        Scopes(text.split_whitespace().filter_map(Scope::parse).collect())
    }

    /// The scopes of `requested` that `self` (a registration) grants,
    /// each cut down to what both allow.
    pub fn grant(&self, requested: &Scopes) -> Scopes {
        let mut out: Vec<Scope> = Vec::new();
        for r in &requested.0 {
            for g in &self.0 {
                if let Some(s) = r.intersect(g) {
                    if !out.contains(&s) {
                        out.push(s);
                    }
                }
            }
        }
        Scopes(out)
    }

    /// Whether `need` on `resource_type` is allowed, and how.
    pub fn allows(&self, resource_type: &str, need: Perms) -> Allowed {
        let mut restricted = Vec::new();
        for s in self
            .0
            .iter()
            .filter(|s| s.applies_to(resource_type) && s.perms.covers(need))
        {
            if s.restriction.is_empty() {
                return Allowed::Yes;
            }
            restricted.push(s.restriction.clone());
        }
        if restricted.is_empty() {
            Allowed::No
        } else {
            Allowed::Restricted(restricted)
        }
    }

    /// Whether `need` is allowed on every resource type without restriction
    /// (for system-level searches and histories).
    pub fn allows_everything(&self, need: Perms) -> bool {
        self.0
            .iter()
            .any(|s| s.resource_type.is_none() && s.restriction.is_empty() && s.perms.covers(need))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(Scope::to_string).collect();
        f.write_str(&parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_and_v2_scopes_parse_to_permissions() {
        let read = Scope::parse("system/*.read").unwrap();
        assert!(read.perms.read && read.perms.search && !read.perms.update);
        let write = Scope::parse("system/Observation.write").unwrap();
        assert!(
            write.perms.create && write.perms.update && write.perms.delete && !write.perms.read
        );
        assert_eq!(Scope::parse("system/*.*").unwrap().perms, Perms::ALL);
        assert_eq!(Scope::parse("system/*.cruds").unwrap().perms, Perms::ALL);
        assert!(
            Scope::parse("system/Patient.sr").is_none(),
            "v2 letters keep the order cruds"
        );
        assert!(Scope::parse("system/Patient.x").is_none());
        assert!(Scope::parse("user/Patient.rs").is_none());
    }

    #[test]
    fn a_grant_is_what_both_request_and_registration_allow() {
        let registered = Scopes::parse("system/Patient.rs system/Observation.cruds");
        let asked = Scopes::parse("system/*.cruds");
        let granted = registered.grant(&asked);
        assert_eq!(
            granted.to_string(),
            "system/Patient.rs system/Observation.cruds"
        );
        let escalation = Scopes::parse("system/Consent.d");
        assert!(
            registered.grant(&escalation).is_empty(),
            "nothing beyond the registration"
        );
    }

    #[test]
    fn restrictions_narrow_what_is_allowed() {
        let s = Scopes::parse("system/Observation.rs?category=laboratory");
        let rs = Perms {
            read: true,
            search: true,
            ..Perms::default()
        };
        assert_eq!(
            s.allows("Observation", rs),
            Allowed::Restricted(vec![vec![("category".into(), "laboratory".into())]])
        );
        assert_eq!(s.allows("Patient", rs), Allowed::No);
        let both = Scopes::parse("system/Observation.rs?category=laboratory system/Observation.r");
        assert_eq!(
            both.allows(
                "Observation",
                Perms {
                    read: true,
                    ..Perms::default()
                }
            ),
            Allowed::Yes
        );
        assert!(!s.allows_everything(rs));
        assert!(Scopes::parse("system/*.rs").allows_everything(rs));
    }
}
