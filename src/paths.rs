//! Tests on the relative, `/`-separated paths that manifests, unit lists
//! and archives carry: whether one lies below another, and whether one could
//! escape the directory it is laid out in.

/// Whether `path` is one of `dirs` or lies below one.
pub fn is_within(path: &str, dirs: &[String]) -> bool {
    dirs.iter().any(|dir| {
        path.strip_prefix(dir.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_means_the_dir_or_below_it() {
        let units = ["debug/.fingerprint/app-0123456789abcdef".to_string()];
        assert!(is_within("debug/.fingerprint/app-0123456789abcdef", &units));
        assert!(is_within(
            "debug/.fingerprint/app-0123456789abcdef/bin-app",
            &units
        ));
        assert!(!is_within(
            "debug/.fingerprint/app-0123456789abcdef0",
            &units
        ));
    }
}
