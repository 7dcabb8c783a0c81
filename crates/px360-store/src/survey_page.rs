//! What the patient page needs beyond `surveys`: the language of a link that can no longer be
//! answered (expired or used), so that its page speaks the patient's language too.

use crate::surveys::{Channel, Language, hash_token};
use crate::{Db, Result};

impl Db {
    /// The invitation language behind a token, whatever the invitation's state; `None` for a
    /// token no invitation has.
    pub async fn survey_link_language(&self, token: &str) -> Result<Option<Language>> {
        let lang: Option<String> = sqlx::query_scalar(
            "SELECT i.language FROM survey_tokens t JOIN survey_invitations i ON i.id = t.invitation_id \
             WHERE t.token_hash = $1",
        )
        .bind(hash_token(token))
        .fetch_optional(&self.pool)
        .await?;
        Ok(lang.as_deref().and_then(Language::parse))
    }

    /// For the unsubscribe page: the language and the channel of the invitation behind a token
    /// (whatever its state: unsubscribing stays possible after expiry or an answer); `None` for
    /// a token no invitation has.
    pub async fn survey_link_channel(
        &self,
        token: &str,
    ) -> Result<Option<(Language, Option<Channel>)>> {
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT i.language, i.channel FROM survey_tokens t JOIN survey_invitations i ON i.id = t.invitation_id \
             WHERE t.token_hash = $1",
        )
        .bind(hash_token(token))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(l, c)| {
            (
                Language::parse(&l).unwrap_or(Language::En),
                c.as_deref().and_then(Channel::parse),
            )
        }))
    }
}
