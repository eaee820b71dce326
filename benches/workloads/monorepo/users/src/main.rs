use axum::{routing::get, Json, Router};

#[derive(serde::Serialize)]
struct User {
    name: String,
}

#[tokio::main]
async fn main() {
    let pool = sqlx::SqlitePool::connect_lazy("sqlite::memory:").expect("an in-memory database");
    let app: Router = Router::new().route("/user", get(|| async { Json(User { name: "u".into() }) }));
    let _ = (app, pool);
    println!("users: {}", common::event("user").kind);
}
