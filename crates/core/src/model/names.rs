//! One name table per fixed value set: the same table writes a value and reads it back.

/// A fixed set of values, each with one name. Writing uses [`Named::name`], reading
/// [`Named::parse`]: both go through [`Named::NAMES`], so they cannot disagree.
pub trait Named: Sized + Copy + PartialEq + 'static {
    /// Every value with its name, in declaration order.
    const NAMES: &'static [(Self, &'static str)];

    /// The name of this value.
    fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(v, _)| *v == self)
            .map(|(_, n)| *n)
            .expect("every value is in its name table")
    }

    /// The value with this name, if any.
    fn parse(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(v, _)| *v)
    }

    /// Every name, in declaration order (for error messages).
    fn names() -> Vec<&'static str> {
        Self::NAMES.iter().map(|(_, n)| *n).collect()
    }
}

/// Declare an enum whose variants each have a name, and its [`Named`] table.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $crate::model::Named for $name {
            const NAMES: &'static [(Self, &'static str)] = &[ $( ($name::$variant, $text) ),+ ];
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::model::Named::name(*self))
            }
        }
    };
}
pub(crate) use named_enum;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn round_trips<T: Named + std::fmt::Debug>() {
        let mut seen = std::collections::HashSet::new();
        for &(v, n) in T::NAMES {
            assert_eq!(v.name(), n);
            assert_eq!(T::parse(n), Some(v), "{n}");
            assert!(seen.insert(n), "{n} twice");
        }
        assert_eq!(T::parse("no such name"), None);
    }

    #[test]
    fn every_name_table_round_trips() {
        round_trips::<PassageStatus>();
        round_trips::<Reason>();
        round_trips::<DuplicateKind>();
        round_trips::<DropReason>();
        round_trips::<AssignmentStatus>();
        round_trips::<Measure>();
        round_trips::<SeedState>();
    }
}
