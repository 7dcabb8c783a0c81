# واجهة PX360 للمشغّلين — العربية.
# Every key here must also exist in ../en/main.ftl (a unit test checks both files).

app-name = PX360
app-subtitle = تجربة المريض
lang-switch = English
nav-dashboard = لوحة المعلومات
nav-events = الأحداث
nav-journeys = رحلات المرضى
nav-org = المنظمة
nav-logout = تسجيل الخروج
nav-account = حسابي
nav-main = التنقل الرئيسي

role-px_admin = مسؤول تجربة المريض
role-hospital_admin = مسؤول المستشفى
role-department_manager = مدير القسم
role-px_coordinator = منسق تجربة المريض
role-physician = طبيب
role-nurse = ممرض
role-staff = موظف
role-viewer = مُطّلع

login-title = تسجيل الدخول
login-intro = سجّل الدخول بحساب PX360 الخاص بك.
login-username = اسم المستخدم أو البريد الإلكتروني
login-password = كلمة المرور
login-submit = دخول
login-failed = اسم المستخدم أو كلمة المرور غير صحيحة.
login-signed-out = تم تسجيل خروجك.

dashboard-title = لوحة المعلومات
scope-title = نطاق صلاحياتك
scope-group = جميع مستشفيات المجموعة
events-by-status = أحداث التكامل حسب الحالة
journeys-summary = رحلات المرضى
journeys-active = قيد التنفيذ
journeys-completed = مكتملة
recent-events = أحدث الأحداث
see-all-events = جميع الأحداث
no-events = لا توجد أحداث.
hospitals = المستشفيات
departments = الأقسام
physicians = الأطباء

status-received = مُستلَم
status-processed = تمت معالجته
status-failed = فشل
status-parked = معلّق
status-all = جميع الحالات

events-title = أحداث التكامل
events-filter = الحالة
events-filter-apply = تصفية
events-count = { $count ->
    [zero] لا توجد أحداث معروضة
    [one] حدث واحد معروض
    [two] حدثان معروضان
    [few] { $count } أحداث معروضة
    [many] { $count } حدثًا معروضًا
   *[other] { $count } حدث معروض
}
col-received = وقت الاستلام
col-hospital = المستشفى
col-department = القسم
col-source = النظام المصدر
col-event-code = رمز الحدث
col-status = الحالة
col-attempts = المحاولات
col-encounter = الزيارة
col-details = التفاصيل
view = عرض

event-title = الحدث
event-hospital = المستشفى
event-source = النظام المصدر
event-code = رمز الحدث
event-encounter = الزيارة
event-patient = معرّف المريض (مخفي جزئيًا)
event-department-code = رمز القسم
event-physician-licence = ترخيص الطبيب
event-occurred = وقت الوقوع
event-received = وقت الاستلام
event-processed = وقت المعالجة
event-next-attempt = المحاولة التالية
event-status = الحالة
event-attempts = المحاولات
event-last-error = آخر خطأ
event-warnings = تحذيرات المعالجة
event-no-warnings = لا توجد تحذيرات.
event-none = —
replay-button = إعادة معالجة الحدث
replay-help = يعيد ضبط عدّاد المحاولات ويعيد الحدث إلى المعالج.
replay-done = أُعيد ضبط الحدث وستتم معالجته مجددًا.
replay-conflict = لا يمكن إعادة معالجة إلا الأحداث المعلّقة أو الفاشلة.
back-to-events = العودة إلى الأحداث
event-error-payload_unreadable = تعذّرت قراءة بيانات الحدث المخزّنة. لن تفيد إعادة المعالجة حتى يرسل النظام المصدر الحدث من جديد.
event-error-invalid = يشير الحدث إلى قيمة مفقودة أو غير صحيحة.
event-error-conflict = حدث تغيير آخر على السجل نفسه في الوقت ذاته؛ وعادةً ما تنجح المحاولة التالية.
event-error-not_found = لم يعد شيء يحتاجه الحدث موجودًا.
event-error-database = تعذّر على قاعدة البيانات إتمام العمل؛ وستُعاد محاولة معالجة الحدث.

warning-unknown_department = قسم غير معروف
warning-unknown_physician = طبيب غير معروف
warning-unknown_patient = مريض غير معروف
warning-no_matching_stage = لا توجد مرحلة مطابقة في الرحلة
warning-stage_already_completed = المرحلة مكتملة مسبقًا
warning-detail-unknown_department = لا يوجد قسم بالرمز { $code } في هذا المستشفى.
warning-detail-unknown_physician = لا يوجد طبيب برقم الترخيص { $licence } في هذا المستشفى.
warning-detail-unknown_patient = لا يوجد مريض بهذا المعرّف في هذا المستشفى؛ حُفظت الرحلة تحت المعرّف.
warning-detail-no_matching_stage = لا يوجد قالب رحلة يحتوي على مرحلة يكملها الحدث { $event_code }.
warning-detail-no_matching_stage-journey = لا تحتوي الرحلة على مرحلة يكملها الحدث { $event_code }.
warning-detail-stage_already_completed = المرحلة التي يكملها الحدث { $event_code } اكتملت مسبقًا بحدث سابق.

journeys-title = رحلات المرضى
journeys-filter-all = جميع الرحلات
col-template = الرحلة
col-started = تاريخ البدء
col-completed = تاريخ الاكتمال
col-progress = التقدّم
col-stages = المراحل
journey-status-active = قيد التنفيذ
journey-status-completed = مكتملة
stage-status-pending = بانتظار الإنجاز
stage-status-completed = مكتملة
stage-status-skipped = تم تخطيها
stages-done = اكتملت { $done } من { $total } مراحل
no-journeys = لا توجد رحلات.

# Paged lists (events, journeys): links to the first page and to the next, older one.
pager-label = التنقل بين الصفحات
pager-newest = الأحدث
pager-older = الأقدم

org-title = المنظمة
col-code = الرمز
col-name = الاسم
col-timezone = المنطقة الزمنية
col-licence = الترخيص
col-specialty = التخصص
no-physicians = لا يوجد أطباء.

error-403-title = تم رفض الوصول
error-403-body = لا يسمح دورك أو نطاق صلاحياتك بهذا الإجراء.
error-404-title = غير موجود
error-404-body = لا يوجد عنصر كهذا ضمن نطاق صلاحياتك.
error-409-title = غير ممكن
error-500-title = حدث خطأ ما
error-500-body = حدث خطأ داخلي وتم تسجيله.
error-csrf-body = جاء هذا الطلب من موقع آخر فتم رفضه.
error-home = الذهاب إلى لوحة المعلومات
error-429-title = محاولات كثيرة جدًا
error-429-body = يُرجى الانتظار دقيقة ثم المحاولة مرة أخرى.
error-request-title = تعذّر فهم الطلب
error-request-body = تعذّرت قراءة النموذج. ارجع وتحقق من الحقول ثم أرسله مرة أخرى.
error-405-body = هذا العنوان لا يقبل هذا النوع من الطلبات.
error-413-body = ما تم إرساله كبير جدًا.

template-OUTPATIENT_VISIT = زيارة العيادات الخارجية
template-INPATIENT_STAY = إقامة داخلية
template-EMERGENCY_VISIT = زيارة الطوارئ
stage-BOOKED = حجز الموعد
stage-CHECKED_IN = تسجيل الوصول
stage-SEEN = فحص الطبيب
stage-CHECKED_OUT = تسجيل المغادرة
stage-ADMITTED = الدخول إلى المستشفى
stage-PROCEDURE = إجراء العملية
stage-DISCHARGE_PLANNED = التخطيط للخروج
stage-DISCHARGED = الخروج من المستشفى
stage-ARRIVED = الوصول
stage-TRIAGED = الفرز
stage-DEPARTED = المغادرة (دخول المستشفى أو الخروج)

account-title = حسابي
account-name-heading = الاسم المعروض
account-display-name = الاسم الذي يراه الزملاء
account-save = حفظ
account-saved-name = تم حفظ اسمك المعروض.
account-name-invalid = يجب أن يتكون الاسم المعروض من 1 إلى 200 حرف.
account-password-heading = كلمة المرور
account-password-intro = يؤدي تغيير كلمة المرور إلى تسجيل خروجك من جميع الجلسات الأخرى.
account-current-password = كلمة المرور الحالية
account-new-password = كلمة المرور الجديدة (12 حرفًا على الأقل)
account-change-password = تغيير كلمة المرور
account-saved-password = تم تغيير كلمة المرور، وتم تسجيل خروج جلساتك الأخرى.
account-password-wrong = كلمة المرور الحالية غير صحيحة.
account-password-weak = يجب أن تتكون كلمة المرور الجديدة من 12 حرفًا على الأقل وأن تختلف عن الحالية.

# Time zones by IANA name ("/" written "-"); other zones show their IANA name as data.
tz-UTC = التوقيت العالمي
tz-Etc-UTC = التوقيت العالمي
tz-Asia-Riyadh = توقيت الرياض
tz-Asia-Dubai = توقيت دبي
tz-Asia-Kuwait = توقيت الكويت
tz-Asia-Qatar = توقيت قطر
tz-Asia-Bahrain = توقيت البحرين
tz-Asia-Muscat = توقيت مسقط
tz-Asia-Amman = توقيت عمّان
tz-Asia-Baghdad = توقيت بغداد
tz-Africa-Cairo = توقيت القاهرة
tz-Europe-London = توقيت المملكة المتحدة

# Complaints: public complaint form (feature "complaints")
complaint-form-title = تقديم شكوى
complaint-form-intro = أخبرنا بما حدث. لا تحتاج إلى حساب. سنرد عليك باللغة التي تستخدمها في هذه الصفحة.
complaint-form-hospital = المستشفى
complaint-form-category = موضوع الشكوى
complaint-form-choose = اختر…
complaint-form-subject = العنوان
complaint-form-description = ماذا حدث
complaint-form-name = اسمك (اختياري)
complaint-form-contact = البريد الإلكتروني أو الهاتف للرد عليك (اختياري)
complaint-form-submit = إرسال الشكوى
complaint-form-bad-hospital-id = اختر المستشفى.
complaint-form-bad-category-code = اختر موضوع الشكوى.
complaint-form-bad-subject = اكتب عنوانًا لا يزيد على ٢٠٠ حرف.
complaint-form-bad-description = صف ما حدث في حدود ٤٠٠٠ حرف.
complaint-form-bad-complainant-name = لا يزيد الاسم على ٢٠٠ حرف.
complaint-form-bad-complainant-contact = لا يزيد البريد الإلكتروني أو الهاتف على ٢٠٠ حرف.
complaint-form-bad-department-id = اختر المستشفى.
complaint-form-bad-language = اختر العربية أو الإنجليزية.
complaint-form-bad-source-channel = تعذّر إرسال النموذج. حاول مرة أخرى.
complaint-form-bad-external-ref = تعذّر إرسال النموذج. حاول مرة أخرى.
complaint-form-bad-encounter-id = تعذّر إرسال النموذج. حاول مرة أخرى.
complaint-form-bad-source-system = تعذّر إرسال النموذج. حاول مرة أخرى.
complaint-form-bad-patient-id = تعذّر إرسال النموذج. حاول مرة أخرى.
complaint-form-bad-physician-id = تعذّر إرسال النموذج. حاول مرة أخرى.
complaint-form-bad-severity = تعذّر إرسال النموذج. حاول مرة أخرى.
complaint-ack-title = شكرًا لك، استلمنا شكواك
complaint-ack-body = رقمك المرجعي هو:
complaint-ack-next = يرجى ذكره كلما تواصلت معنا. سيتواصل معك أحد أعضاء فريق تجربة المريض.
