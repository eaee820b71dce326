//! The ground floor: files and directories, whatever they hold.

pub mod blob;
pub mod bytes;
pub mod fs;
pub mod paths;
pub mod pool;
pub mod scan;
pub mod staging;
