//! The chainable setters of the crate's configuration structs.
//!
//! Every public `*Config` and `*Options` struct is `#[non_exhaustive]`, so that a
//! field can be added without breaking a user: it is built from `Default` and
//! changed through its public fields or through `with_*` setters written by
//! [`setters!`].

/// Writes a chainable setter, `fn with_field(mut self, value) -> Self`, for each
/// listed field of a config struct, with the given doc comment.
///
/// ```ignore
/// setters!(ServerConfig {
///     /// Sets [`ServerConfig::max_command_line`].
///     with_max_command_line => max_command_line: usize,
/// });
/// ```
#[allow(unused_macros)]
macro_rules! setters {
    ($ty:ty { $( $(#[$doc:meta])* $setter:ident => $field:ident : $value:ty ),* $(,)? }) => {
        impl $ty {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $setter(mut self, value: $value) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

#[allow(unused_imports)]
pub(crate) use setters;

#[cfg(test)]
mod tests {
    #[derive(Default)]
    struct Example {
        size: usize,
        strict: bool,
    }

    setters!(Example {
        /// Sets the size.
        with_size => size: usize,
        /// Sets strictness.
        with_strict => strict: bool,
    });

    #[test]
    fn setters_chain() {
        let example = Example::default().with_size(7).with_strict(true);
        assert_eq!((example.size, example.strict), (7, true));
    }
}
