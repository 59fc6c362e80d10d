//! Outgoing e-mail.
