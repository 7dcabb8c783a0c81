# PX360 operator UI — English (the fallback language).
# Every key here must also exist in ../ar/main.ftl (a unit test checks both files).

app-name = PX360
app-subtitle = Patient experience
lang-switch = العربية
nav-dashboard = Dashboard
nav-events = Events
nav-journeys = Journeys
nav-org = Organisation
nav-logout = Sign out
nav-account = My account
nav-main = Main navigation

role-px_admin = PX Admin
role-hospital_admin = Hospital Admin
role-department_manager = Department Manager
role-px_coordinator = PX Coordinator
role-physician = Physician
role-nurse = Nurse
role-staff = Staff
role-viewer = Viewer

login-title = Sign in
login-intro = Sign in with your PX360 account.
login-username = Username or email
login-password = Password
login-submit = Sign in
login-failed = Username or password incorrect.
login-signed-out = You have been signed out.

dashboard-title = Dashboard
scope-title = Your scope
scope-group = All hospitals of the group
events-by-status = Integration events by status
journeys-summary = Patient journeys
journeys-active = In progress
journeys-completed = Completed
recent-events = Recent events
see-all-events = All events
no-events = No events.
hospitals = Hospitals
departments = Departments
physicians = Physicians

status-received = Received
status-processed = Processed
status-failed = Failed
status-parked = Parked
status-all = All statuses

events-title = Integration events
events-filter = Status
events-filter-apply = Filter
events-count = { $count ->
    [one] One event shown
   *[other] { $count } events shown
}
col-received = Received
col-hospital = Hospital
col-department = Department
col-source = Source system
col-event-code = Event code
col-status = Status
col-attempts = Attempts
col-encounter = Encounter
col-details = Details
view = View

event-title = Event
event-hospital = Hospital
event-source = Source system
event-code = Event code
event-encounter = Encounter
event-patient = Patient identifier (masked)
event-department-code = Department code
event-physician-licence = Physician licence
event-occurred = Occurred
event-received = Received
event-processed = Processed
event-next-attempt = Next attempt
event-status = Status
event-attempts = Attempts
event-last-error = Last error
event-warnings = Processing warnings
event-no-warnings = No warnings.
event-none = —
replay-button = Replay event
replay-help = Resets the attempt counter and hands the event back to the worker.
replay-done = The event was reset and will be processed again.
replay-conflict = Only parked or failed events can be replayed.
back-to-events = Back to events
event-error-payload_unreadable = The stored event data could not be read. Replaying will not help until the source sends the event again.
event-error-invalid = The event refers to a value that is missing or malformed.
event-error-conflict = Another change to the same record happened at the same time; the next attempt usually succeeds.
event-error-not_found = Something the event needs no longer exists.
event-error-database = The database could not complete the work; the event will be tried again.

warning-unknown_department = Unknown department
warning-unknown_physician = Unknown physician
warning-unknown_patient = Unknown patient
warning-no_matching_stage = No matching journey stage
warning-stage_already_completed = Stage already completed
warning-detail-unknown_department = No department with code { $code } in this hospital.
warning-detail-unknown_physician = No physician with licence { $licence } in this hospital.
warning-detail-unknown_patient = No patient with this identifier in this hospital; the journey is kept under the identifier.
warning-detail-no_matching_stage = No journey template has a stage completed by { $event_code }.
warning-detail-no_matching_stage-journey = The journey has no stage completed by { $event_code }.
warning-detail-stage_already_completed = The stage completed by { $event_code } was already completed by an earlier event.

journeys-title = Patient journeys
journeys-filter-all = All journeys
col-template = Journey
col-started = Started
col-completed = Completed
col-progress = Progress
col-stages = Stages
journey-status-active = In progress
journey-status-completed = Completed
stage-status-pending = Pending
stage-status-completed = Completed
stage-status-skipped = Skipped
stages-done = { $done } of { $total } stages completed
no-journeys = No journeys.

# Paged lists (events, journeys): links to the first page and to the next, older one.
pager-label = Pages
pager-newest = Newest
pager-older = Older

org-title = Organisation
col-code = Code
col-name = Name
col-timezone = Time zone
col-licence = Licence
col-specialty = Specialty
no-physicians = No physicians.

error-403-title = Access denied
error-403-body = Your role or scope does not allow this.
error-404-title = Not found
error-404-body = There is no such object in your scope.
error-409-title = Not possible
error-500-title = Something went wrong
error-500-body = An internal error occurred; it has been logged.
error-csrf-body = This request came from another site and was refused.
error-home = Go to the dashboard
error-429-title = Too many attempts
error-429-body = Please wait a minute, then try again.
error-request-title = Request not understood
error-request-body = The form could not be read. Go back, check the fields and send it again.
error-405-body = This address does not accept that kind of request.
error-413-body = What was sent is too large.

# Names of the seeded journey templates and stages (other templates show their stored name).
template-OUTPATIENT_VISIT = Outpatient visit
template-INPATIENT_STAY = Inpatient stay
template-EMERGENCY_VISIT = Emergency visit
stage-BOOKED = Appointment booked
stage-CHECKED_IN = Checked in
stage-SEEN = Seen by clinician
stage-CHECKED_OUT = Checked out
stage-ADMITTED = Admitted
stage-PROCEDURE = Procedure performed
stage-DISCHARGE_PLANNED = Discharge planned
stage-DISCHARGED = Discharged
stage-ARRIVED = Arrived
stage-TRIAGED = Triaged
stage-DEPARTED = Departed (admitted or discharged)

account-title = My account
account-name-heading = Display name
account-display-name = Name shown to colleagues
account-save = Save
account-saved-name = Your display name has been saved.
account-name-invalid = The display name must be 1 to 200 characters.
account-password-heading = Password
account-password-intro = Changing your password signs you out everywhere else.
account-current-password = Current password
account-new-password = New password (at least 12 characters)
account-change-password = Change password
account-saved-password = Your password has been changed; your other sessions have been signed out.
account-password-wrong = The current password is incorrect.
account-password-weak = The new password must be at least 12 characters and differ from the current one.

# Time zones by IANA name ("/" written "-"); other zones show their IANA name as data.
tz-UTC = UTC
tz-Etc-UTC = UTC
tz-Asia-Riyadh = Riyadh time
tz-Asia-Dubai = Dubai time
tz-Asia-Kuwait = Kuwait time
tz-Asia-Qatar = Qatar time
tz-Asia-Bahrain = Bahrain time
tz-Asia-Muscat = Muscat time
tz-Asia-Amman = Amman time
tz-Asia-Baghdad = Baghdad time
tz-Africa-Cairo = Cairo time
tz-Europe-London = UK time

# Complaints: public complaint form (feature "complaints")
complaint-form-title = Make a complaint
complaint-form-intro = Tell us what went wrong. You do not need an account. We will answer in the language you use on this page.
complaint-form-hospital = Hospital
complaint-form-category = What is it about?
complaint-form-choose = Choose…
complaint-form-subject = Subject
complaint-form-description = What happened
complaint-form-name = Your name (optional)
complaint-form-contact = Email or phone for our reply (optional)
complaint-form-submit = Send complaint
complaint-form-bad-hospital-id = Choose the hospital.
complaint-form-bad-category-code = Choose what the complaint is about.
complaint-form-bad-subject = Give a subject of up to 200 characters.
complaint-form-bad-description = Describe what happened in up to 4000 characters.
complaint-form-bad-complainant-name = Your name can have up to 200 characters.
complaint-form-bad-complainant-contact = Your email or phone can have up to 200 characters.
complaint-form-bad-department-id = Choose the hospital.
complaint-form-bad-language = Choose English or Arabic.
complaint-form-bad-source-channel = The form could not be sent. Please try again.
complaint-form-bad-external-ref = The form could not be sent. Please try again.
complaint-form-bad-encounter-id = The form could not be sent. Please try again.
complaint-form-bad-source-system = The form could not be sent. Please try again.
complaint-form-bad-patient-id = The form could not be sent. Please try again.
complaint-form-bad-physician-id = The form could not be sent. Please try again.
complaint-form-bad-severity = The form could not be sent. Please try again.
complaint-ack-title = Thank you, we have your complaint
complaint-ack-body = Your reference number is:
complaint-ack-next = Please quote it whenever you contact us. A member of our patient experience team will get back to you.
