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
    for part in path.split('/') {
        match part {
            "" => return Err("empty path component".into()),
            "." | ".." => return Err(format!("{part:?} component")),
            _ => {}
        }
    }
    Ok(())
}
