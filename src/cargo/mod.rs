//! What cargo makes of a target directory and a workspace.

pub mod built;
pub mod classify;
pub mod dep_info;
pub mod fan_out;
pub mod installables;
pub mod left_out;
pub mod members;
pub mod prune;
pub mod rebuilt;
pub mod resolution;
pub mod skeleton;
pub mod split;
pub mod stdout;
pub mod symlinks;
pub mod unify;
pub mod units;
pub mod watched;
pub mod workspace;
