//! Shared state of the HTTP layer.

use crate::problem::ApiError;
use o2c_app::App;
use o2c_app::auth::{self, ApiKey};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

#[derive(Clone)]
pub struct ApiState {
    pub app: App,
    /// Verified keys by secret hash: spares a database read per request. Keys are only ever
    /// added here; a key created by another process is found on the first miss.
    keys: Arc<RwLock<HashMap<String, ApiKey>>>,
}

impl ApiState {
    pub fn new(app: App) -> ApiState {
        ApiState {
            app,
            keys: Arc::default(),
        }
    }

    pub async fn verify_key(&self, secret: &str) -> Result<Option<ApiKey>, ApiError> {
        let hash = auth::hash_secret(secret);
        if let Some(k) = self.keys.read().expect("key cache").get(&hash) {
            return Ok(Some(k.clone()));
        }
        let s = secret.to_string();
        let found = self
            .app
            .read(move |conn| auth::find_by_secret(conn, &s))
            .await?;
        if let Some(k) = &found {
            self.keys
                .write()
                .expect("key cache")
                .insert(hash, k.clone());
        }
        Ok(found)
    }
}
