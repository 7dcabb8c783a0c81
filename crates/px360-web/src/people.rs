//! People and access: user accounts with a role and a hospital/department scope, activation,
//! and an administrator's password reset (the user must choose a new password at their next
//! sign-in). The choices offered are only what the signed-in user may grant: roles strictly
//! below their own, hospitals and departments inside their scope. The API's operations check
//! the grant again on submit (`px360_api::users::{create, update}`), so a forged form gets 403.

use crate::error::UiError;
use crate::i18n::{Label, Tr};
use crate::org_form::{Action as FormAction, Cell, Field, FormData, Kind, ListRow, Opt};
use crate::org_names::Names;
use px360_api::AppState;
use px360_api::auth::Ctx;
use px360_api::error::ApiError;
use px360_api::users::{NewUser, grantable_roles};
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource, Role};
use px360_store::auth::{UserChanges, UserRow};

pub const COLUMNS: [&str; 5] = [
    "orgadm-col-username",
    "col-name",
    "orgadm-col-role",
    "orgadm-col-scope",
    "orgadm-col-status",
];

fn role_label(t: &Tr, r: Role) -> Cell {
    Cell::label(Label {
        text: t.get(&format!("role-{}", r.as_str())),
        data: false,
    })
}

pub fn rows(t: &Tr, p: &Principal, names: &Names, users: &[UserRow]) -> Vec<ListRow> {
    users
        .iter()
        .map(|u| {
            let scope = match (u.hospital_id, u.department_id) {
                (None, _) => Cell::label(Label {
                    text: t.get("orgadm-scope-group"),
                    data: false,
                }),
                (Some(h), None) => Cell::data(&names.hospital(Some(h))),
                (Some(h), Some(d)) => Cell::data(&format!(
                    "{} / {}",
                    names.hospital(Some(h)),
                    names.department(Some(d))
                )),
            };
            let status = if u.is_active {
                "orgadm-active"
            } else {
                "orgadm-inactive"
            };
            let editable =
                p.may(
                    Resource::User,
                    Action::Update,
                    &ObjectScope::new(u.hospital_id, u.department_id),
                ) && px360_domain::rbac::scope_for(u.role, u.hospital_id, u.department_id)
                    .is_ok_and(|s| p.may_grant(u.role, &s));
            ListRow {
                cells: vec![
                    Cell::code(&u.username),
                    Cell::data(&u.display_name),
                    role_label(t, u.role),
                    scope,
                    Cell::label(Label {
                        text: t.get(status),
                        data: false,
                    }),
                ],
                edit: editable.then(|| format!("/ui/org/users/{}", u.id)),
            }
        })
        .collect()
}

/// The account form: identity, then role and scope chosen from what `p` may grant.
pub fn fields(t: &Tr, p: &Principal, names: &Names, v: &FormData, new: bool) -> Vec<Field> {
    let mut out = Vec::new();
    if new {
        out.push(Field::code(
            t,
            "username",
            "orgadm-col-username",
            &v.get("username"),
        ));
    }
    out.push(Field::text(
        t,
        "display_name",
        "account-display-name",
        &v.get("display_name"),
        true,
    ));
    out.push(Field {
        ltr: true,
        ..Field::text(t, "email", "orgadm-email", &v.get("email"), false).kind(Kind::Email)
    });
    if new {
        out.push(Field {
            ltr: true,
            ..Field::text(t, "password", "orgadm-initial-password", "", true).kind(Kind::Password)
        });
    }
    let chosen = v.get("role");
    let mut roles: Vec<Opt> = grantable_roles(p)
        .into_iter()
        .map(|r| Opt {
            value: r.as_str().to_owned(),
            label: Label {
                text: t.get(&format!("role-{}", r.as_str())),
                data: false,
            },
            selected: r.as_str() == chosen,
        })
        .collect();
    if roles.is_empty() {
        roles.push(Opt {
            value: String::new(),
            label: Label {
                text: t.get("orgadm-none"),
                data: false,
            },
            selected: true,
        });
    }
    out.push(Field::text(t, "role", "orgadm-col-role", "", true).kind(Kind::Select(roles)));
    // Group-wide principals may leave the hospital empty (PX Admin accounts); others are
    // offered their own hospital only.
    let none_h = p
        .scope()
        .hospital_id()
        .is_none()
        .then(|| t.get("orgadm-none"));
    out.push(
        Field::text(t, "hospital_id", "col-hospital", "", false).kind(Kind::Select(
            names.hospital_options(&v.get("hospital_id"), none_h),
        )),
    );
    let none_d = p
        .scope()
        .department_id()
        .is_none()
        .then(|| t.get("orgadm-none"));
    out.push(
        Field::text(t, "department_id", "col-department", "", false).kind(Kind::Select(
            names.department_options(&v.get("department_id"), none_d),
        )),
    );
    out
}

pub async fn create(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    form: &FormData,
) -> Result<(), ApiError> {
    let mut hospital_id = form.opt("hospital_id");
    let department_id = form.opt("department_id");
    // A department names its hospital: fill it in rather than make the user pick both.
    if hospital_id.is_none()
        && let Some(d) = &department_id
        && let Ok(dept) = st.db.department(d).await
    {
        hospital_id = Some(dept.hospital_id.to_string());
    }
    let u = NewUser {
        username: form.get("username"),
        display_name: form.get("display_name"),
        email: form.opt("email"),
        password: form.get("password"),
        role: form.get("role"),
        hospital_id,
        department_id,
        // An initial password chosen by an administrator: the user picks their own at their
        // first sign-in, as after a reset.
        must_change_password: true,
    };
    px360_api::users::create(st, p, ctx, &u).await.map(drop)
}

/// The account's values, after the gate and the grant rule (accounts the caller could not
/// have created are 403 or 404 as in the API).
pub async fn current(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
) -> Result<Vec<(&'static str, String)>, UiError> {
    let u = px360_api::users::load_for(st, p, ctx, id, Action::Update).await?;
    Ok(vec![
        ("display_name", u.display_name),
        ("email", u.email.unwrap_or_default()),
        ("role", u.role.as_str().to_owned()),
        (
            "hospital_id",
            u.hospital_id.map(|h| h.to_string()).unwrap_or_default(),
        ),
        (
            "department_id",
            u.department_id.map(|d| d.to_string()).unwrap_or_default(),
        ),
        ("is_active", if u.is_active { "1" } else { "0" }.to_owned()),
    ])
}

/// Activate/deactivate and the password reset, next to the edit form.
pub fn actions(t: &Tr, base: &str, v: &FormData) -> Vec<FormAction> {
    let active = v.get("is_active") != "0";
    vec![
        FormAction {
            action: format!("{base}/{}", if active { "deactivate" } else { "activate" }),
            label: t.get(if active {
                "orgadm-deactivate"
            } else {
                "orgadm-activate"
            }),
            class: if active {
                "btn-outline-warning"
            } else {
                "btn-outline-success"
            },
            field: None,
            link: false,
        },
        FormAction {
            action: format!("{base}/reset-password"),
            label: t.get("orgadm-reset-password"),
            class: "btn-outline-primary",
            field: Some(Field {
                ltr: true,
                ..Field::text(t, "password", "orgadm-temporary-password", "", true)
                    .kind(Kind::Password)
            }),
            link: false,
        },
    ]
}

pub async fn update(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    old: &FormData,
    form: &FormData,
) -> Result<(), ApiError> {
    let changed = |n: &str| form.get(n) != old.get(n);
    // A role or scope change names the complete new scope (as the API requires).
    let rescope = changed("role") || changed("hospital_id") || changed("department_id");
    let c = UserChanges {
        display_name: Some(form.get("display_name")).filter(|_| changed("display_name")),
        email: form.opt("email").filter(|_| changed("email")),
        role: rescope.then(|| form.get("role")),
        hospital_id: if rescope {
            form.opt("hospital_id")
        } else {
            None
        },
        department_id: if rescope {
            form.opt("department_id")
        } else {
            None
        },
        ..Default::default()
    };
    px360_api::users::update(st, p, ctx, id, &c).await.map(drop)
}

/// `activate`, `deactivate`, `reset-password` (with the temporary password) and `delete`.
pub async fn op(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    op: &str,
    form: &FormData,
) -> Result<(Result<(), ApiError>, &'static str), UiError> {
    let (c, what) = match op {
        "activate" => (
            UserChanges {
                is_active: Some(true),
                ..Default::default()
            },
            "activated",
        ),
        "deactivate" => (
            UserChanges {
                is_active: Some(false),
                ..Default::default()
            },
            "deactivated",
        ),
        "reset-password" => (
            UserChanges {
                password: Some(form.get("password")),
                ..Default::default()
            },
            "reset",
        ),
        "delete" => {
            return Ok((px360_api::users::delete(st, p, ctx, id).await, "deleted"));
        }
        _ => return Err(UiError::NotFound),
    };
    Ok((
        px360_api::users::update(st, p, ctx, id, &c).await.map(drop),
        what,
    ))
}
