//! Tests on the relative, `/`-separated paths that manifests, unit lists
//! and archives carry: whether one could escape the directory it is laid
//! out in.

/// Refuses anything that could escape the directory it is laid out in.
pub fn check_relative(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty path".into());
    }
    if path.starts_with('/') {
        return Err("absolute path".into());
    }
    if path.contains('\0') {
        return Err("NUL byte in path".into());
    }
    if path.len() > MAX_PATH {
        return Err(format!("longer than the {MAX_PATH} bytes a path may have"));
    }
    for part in path.split('/') {
        match part {
            "" => return Err("empty path component".into()),
            "." | ".." => return Err(format!("{part:?} component")),
            _ if part.len() > MAX_NAME => {
                return Err(format!(
                    "a component longer than the {MAX_NAME} bytes a name may have"
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Linux's limits (NAME_MAX, and PATH_MAX less its NUL): beyond them a
/// tree cannot be laid out anywhere.
pub const MAX_NAME: usize = 255;
pub const MAX_PATH: usize = 4095;

/// A symlink's target as a manifest may hold it: what `symlink(2)` takes.
pub fn check_link_target(target: &str) -> Result<(), String> {
    if target.is_empty() || target.contains('\0') {
        return Err("a symlink with an empty target or a NUL byte in it".into());
    }
    if target.len() > MAX_PATH {
        return Err(format!("a symlink target longer than {MAX_PATH} bytes"));
    }
    Ok(())
}
