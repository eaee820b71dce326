#[tokio::main(flavor = "current_thread")]
async fn main() {
    let client = reqwest::Client::new();
    let body = serde_json::json!({ "text": "hi" });
    let _ = client.post("https://notify.invalid").body(body.to_string());
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    let unit: Result<(), serde::de::value::Error> = serde::Deserialize::deserialize(serde::de::value::UnitDeserializer::new());
    println!("notifier: sent ({})", unit.is_ok());
}
