//! What every service shares: an event type and its errors.

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Event {
    pub id: uuid::Uuid,
    pub kind: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("bad event: {0}")]
    Bad(#[from] serde_json::Error),
}

pub fn event(kind: &str) -> Event {
    tracing::debug!(kind, "new event");
    Event { id: uuid::Uuid::new_v4(), kind: kind.into() }
}

pub fn encode(event: &Event) -> Result<String, Error> {
    Ok(serde_json::to_string(event)?)
}
