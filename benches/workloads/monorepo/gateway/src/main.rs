use axum::{routing::get, Router};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new("info")).init();
    let app: Router = Router::new()
        .route("/", get(|| async { common::encode(&common::event("hello")).unwrap_or_default() }))
        .layer(tower_http::cors::CorsLayer::permissive())
        .layer(tower_http::trace::TraceLayer::new_for_http());
    let _ = app;
    println!("gateway: {}", serde_json::json!({ "routes": 1 }));
}
