//! The action page's evidence form (`POST /ui/actions/{id}/evidence`, multipart): a note and,
//! optionally, a file. The file is stored through the API's own upload
//! (`px360_api::action_files::upload`: checks, storage, audit), then the note and the file go to
//! the domain machine as one `add_evidence` command. The note is checked first, so a refused
//! note does not leave a stored file behind; a refused file or note shows the page again with
//! the message next to the form (422).

use crate::action_detail::outcome;
use crate::error::UiError;
use crate::multipart;
use crate::page::Req;
use crate::session::Session;
use axum::extract::{Multipart, Path, State};
use axum::response::Response;
use px360_api::AppState;
use px360_api::actions::transition;
use px360_api::auth::Ctx;
use px360_api::error::ApiError;
use px360_domain::action::px_action::{ActionCommand, Evidence};
use px360_domain::event::FieldError;
use uuid::Uuid;

/// The largest note the machine accepts, in characters.
const NOTE_MAX: usize = 4000;

pub async fn evidence(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    form: Multipart,
) -> Result<Response, UiError> {
    let id = Uuid::parse_str(&id).map_err(|_| UiError::NotFound)?;
    let parts = multipart::read(form, "file", &["note"]).await?;
    let note = parts.text("note").to_owned();
    let n = note.trim().chars().count();
    let r = if n == 0 || n > NOTE_MAX {
        // The gate first: out of scope stays 404, not a form error.
        px360_api::actions::load(
            &st,
            &s.principal,
            &ctx,
            id,
            px360_domain::rbac::Action::Update,
        )
        .await
        .and_then(|_| {
            Err(ApiError::Validation(vec![FieldError::new(
                "evidence.note",
                "is required (1-4000 characters)",
            )]))
        })
    } else {
        let attachment_id = match &parts.file {
            Some(f) => px360_api::action_files::upload(
                &st,
                &s.principal,
                &ctx,
                id,
                f.stored_name(),
                &f.content_type,
                &f.bytes,
            )
            .await
            .map(|f| Some(f.id)),
            None => Ok(None),
        };
        match attachment_id {
            Ok(attachment_id) => {
                let cmd = ActionCommand::AddEvidence {
                    evidence: Evidence {
                        note,
                        attachment_id,
                    },
                };
                transition(&st, &s.principal, &ctx, id, &cmd)
                    .await
                    .map(|_| ())
            }
            Err(e) => Err(e),
        }
    };
    outcome(&st, &req, &s, &ctx, id, r.map(|()| "add_evidence")).await
}
