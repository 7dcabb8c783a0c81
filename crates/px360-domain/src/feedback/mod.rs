//! General feedback without I/O: kinds and their analytics counts ([`kind`]), the validated
//! public submission ([`submission`]), the QR target a printed code points at and the code
//! itself as SVG and PNG ([`qr`]), and triage into a complaint, an action or an
//! acknowledgement, with compliments routed to the named staff member's manager ([`triage`]).

pub mod kind;
pub mod qr;
pub mod submission;
pub mod triage;
