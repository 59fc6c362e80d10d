//! UBL 2.1 rendering.
