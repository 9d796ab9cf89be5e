//! Who is asking: every interaction is applied on behalf of a [`Caller`].

/// The party an interaction is applied for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A request that presented no credentials.
    Anonymous,
}

impl Caller {
    /// The caller's organisation (ODS code), recorded as the source of
    /// what it writes; None when it has none.
    pub fn organisation(&self) -> Option<&str> {
        match self {
            Caller::Anonymous => None,
        }
    }
}
