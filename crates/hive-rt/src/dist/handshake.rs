//! The version-6 distribution handshake, both roles.
