#[derive(serde::Serialize)]
struct Hit {
    at: usize,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().build().expect("a runtime");
    let text = common::encode(&common::event("searched")).unwrap_or_default();
    let re = regex::Regex::new("[a-z]+").expect("a regex");
    let hit = Hit { at: memchr::memchr(b'"', text.as_bytes()).unwrap_or(0) };
    let (tx, _rx) = tokio::sync::mpsc::channel::<usize>(1);
    let _ = (runtime, tx);
    println!("search: {} words, first quote at {}", re.find_iter(&text).count(), hit.at);
}
