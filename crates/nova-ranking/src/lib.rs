//! Ranking (in progress).
