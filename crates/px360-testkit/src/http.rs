//! JSON API request helpers over real HTTP.

use reqwest::Method;
use serde_json::{Value, json};

/// The `User-Agent` every helper request carries, so audit rows can be checked for it.
pub const USER_AGENT: &str = "px360-test";

/// A client of one running server at `base` (`http://127.0.0.1:port`).
#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into(),
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `method path` with a bearer token, the test `User-Agent` and a JSON body (`None`: none).
    pub async fn send(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: impl Into<Option<Value>>,
    ) -> reqwest::Response {
        let mut r = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token)
            .header(reqwest::header::USER_AGENT, USER_AGENT);
        if let Some(b) = body.into() {
            r = r.json(&b);
        }
        r.send().await.unwrap()
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.send(token, Method::GET, path, None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> reqwest::Response {
        self.send(token, Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> reqwest::Response {
        self.send(token, Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, token: &str, path: &str) -> reqwest::Response {
        self.send(token, Method::DELETE, path, None).await
    }

    /// `POST /api/auth/login`; fails the test unless it answers 200. Returns the token body.
    pub async fn login(&self, user: &str, password: &str) -> Value {
        let r = self
            .http
            .post(self.url("/api/auth/login"))
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login {user}");
        r.json().await.unwrap()
    }

    /// The access token of a login.
    pub async fn token(&self, user: &str, password: &str) -> String {
        self.login(user, password).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// The `field` of each entry of a problem+json `errors` array, in order.
pub fn field_names(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

/// The `event_id` of an intake answer (202 accepted or 200 duplicate).
pub async fn event_id(r: reqwest::Response) -> String {
    r.json::<Value>().await.unwrap()["event_id"]
        .as_str()
        .unwrap()
        .to_owned()
}
