//! DNS wire format (to be written).
