#[derive(serde::Serialize, serde::Deserialize)]
struct Invoice {
    due: chrono::DateTime<chrono::Utc>,
}

#[tokio::main]
async fn main() {
    let client = reqwest::Client::new();
    let invoice = Invoice { due: chrono::Utc::now() };
    let _ = client.post("https://billing.invalid").json(&invoice);
    println!("billing: {}", common::event("invoice").kind);
}
