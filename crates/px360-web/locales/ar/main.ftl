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

# --- الإدارة: قوالب الرحلات، التكاملات، سجل التدقيق (brief "admin") ---
nav-templates = قوالب الرحلات
nav-integrations = التكاملات
nav-audit = سجل التدقيق
tpl-title = قوالب الرحلات
tpl-edit-title = قالب رحلة
tpl-running-note = تحتفظ الرحلات الجارية بالمراحل التي بدأت بها؛ تنطبق التغييرات هنا على الرحلات التي تبدأ من الآن.
tpl-none = لا توجد قوالب رحلات بعد.
tpl-owner = يتبع
tpl-group-wide = جميع المستشفيات (على مستوى المجموعة)
tpl-preview = تسلسل المراحل
tpl-new = قالب رحلة جديد
tpl-code = رمز القالب
tpl-name = اسم القالب
tpl-first-stage = المرحلة الأولى (أضف المراحل الأخرى في صفحة القالب)
tpl-stage-code = رمز المرحلة
tpl-stage-name = اسم المرحلة
tpl-stage-event = رمز الحدث المُكمِل
tpl-code-help = تتكون الرموز من الأحرف اللاتينية الكبيرة والأرقام والشرطة السفلية.
tpl-create = إنشاء القالب
tpl-back = → جميع قوالب الرحلات
tpl-completed-by = يكتمل بالحدث
tpl-stages = المراحل
tpl-col-position = الترتيب
tpl-col-actions = الترتيب والحذف
tpl-save = حفظ
tpl-move-earlier = نقل مكانًا واحدًا إلى الأمام
tpl-move-later = نقل مكانًا واحدًا إلى الخلف
tpl-remove = حذف
tpl-add-stage = إضافة مرحلة
tpl-add-position = الموضع
tpl-position-last = في النهاية
tpl-position-before = قبل المرحلة
tpl-add = إضافة المرحلة
tpl-rename = إعادة تسمية القالب
tpl-saved-created = تم إنشاء القالب. أضف مراحله الأخرى أدناه.
tpl-saved-name = تم حفظ اسم القالب.
tpl-saved-stage = تم حفظ المرحلة.
tpl-saved-added = تمت إضافة المرحلة.
tpl-saved-moved = تم نقل المرحلة.
tpl-saved-removed = تم حذف المرحلة؛ تحتفظ بها الرحلات الجارية.
tpl-error-code = استخدم من 1 إلى 64 حرفًا: أحرفًا لاتينية كبيرة وأرقامًا وشرطة سفلية.
tpl-error-code-taken = يستخدم قالب آخر هذا الرمز.
tpl-error-name = أدخل اسمًا من 1 إلى 200 حرف.
tpl-error-completing_event_code = استخدم من 1 إلى 64 حرفًا لاتينيًا كبيرًا أو رقمًا أو شرطة سفلية، غير مستخدم لمرحلة أخرى في هذا القالب.
tpl-error-completing_event_code-taken = رمز الحدث هذا يُكمل مرحلة أخرى في هذا القالب.
tpl-error-stages = يضم القالب من 1 إلى 50 مرحلة، ولا يمكن حذف مرحلته الأخيرة.
tpl-error-position = اختر موضعًا بين المرحلة الأولى والأخيرة.
tpl-error-hospital_id = اختر مستشفى تديره.
tpl-error-form = تعذر إجراء التغيير. أعد تحميل الصفحة وحاول مرة أخرى.
int-title = التكاملات
int-keys = مفاتيح الواجهة البرمجية
int-no-keys = لا توجد مفاتيح بعد.
int-prefix = بادئة المفتاح
int-systems = الأنظمة المصدر
int-systems-help = افصل بين الأنظمة بفواصل؛ النجمة * تسمح بأي نظام.
int-created = تاريخ الإصدار
int-last-used = آخر استخدام
int-state = الحالة
int-live = نشط
int-revoked-at = مُلغى
int-revoke = إلغاء…
int-new-key = إصدار مفتاح
int-key-name = اسم المفتاح (مثل النظام المرسِل)
int-issue = إصدار المفتاح
int-issued = المفتاح الجديد:
int-issued-once = انسخ المفتاح الآن: يُعرض هذه المرة فقط ولا يمكن استرجاعه (لا يُحفظ إلا بصمته).
int-secret = المفتاح
int-copy = نسخ
int-copied = تم النسخ
int-curl-ready = جاهز للتشغيل: أرسل حدثًا بهذا المفتاح
int-revoked = تم إلغاء المفتاح؛ تُرفض الأحداث المرسلة به من الآن.
int-revoke-title = إلغاء مفتاح
int-revoke-warning = ستُرفض الأنظمة التي تستخدم هذا المفتاح فورًا. لا يمكن التراجع عن ذلك: أصدر مفتاحًا جديدًا بدلًا منه.
int-revoke-confirm = إلغاء المفتاح
int-cancel = رجوع
int-back = → التكاملات
int-already-revoked = هذا المفتاح مُلغى بالفعل.
int-contract = عقد الأحداث
int-contract-intro = ترسل أنظمة المستشفى حدثًا واحدًا بصيغة جيسون لكل خطوة سريرية إلى نقطة استقبال الأحداث.
int-contract-auth = المصادقة بالمفتاح في الترويسة
int-contract-fields = الحقول المطلوبة:
int-contract-time = الطابع الزمني في الحمولة هو الوقت السريري؛ وإن خلا من فرق التوقيت يُقرأ بتوقيت المستشفى.
int-contract-answers = الردود: 202 مقبول، 200 تكرار لحدث سابق، 422 حقول غير صالحة (كل حقل باسمه)، 401 مفتاح غير معروف أو مُلغى.
int-contract-docs = العقد الكامل مع الأمثلة:
int-test = إرسال حدث تجريبي
int-test-help = يرسل حدثًا نموذجيًا بالمفتاح المختار عبر مسار الاستقبال نفسه الذي تستخدمه أنظمة المستشفى، ثم يعرض كيف عولج.
int-test-key = المفتاح
int-test-code = رمز الحدث
int-test-send = إرسال الحدث التجريبي
int-test-result = نتيجة الحدث التجريبي:
int-test-open = فتح الحدث
int-test-no-key = أصدر مفتاحًا أولًا.
int-test-revoked = هذا المفتاح مُلغى.
int-test-invalid = رُفض الحدث النموذجي: تحقق من أن المفتاح يسمح بنظام مصدر ومن صحة رمز الحدث.
int-test-warnings = { $count ->
    [zero] لا توجد تحذيرات معالجة.
    [one] تحذير معالجة واحد.
    [two] تحذيرا معالجة.
    [few] { $count } تحذيرات معالجة.
    [many] { $count } تحذيرًا.
   *[other] { $count } تحذير معالجة.
}
int-error-name = أدخل اسمًا.
int-error-source_systems = اذكر نظامًا مصدرًا واحدًا على الأقل، أو النجمة *.
int-error-hospital_id = اختر مستشفى.
int-error-form = تعذر إصدار المفتاح. أعد تحميل الصفحة وحاول مرة أخرى.
audit-title = سجل التدقيق
audit-chain = سلسلة التدقيق
audit-chain-pending = لم يُتحقق منها بعد (يجري التحقق عند التشغيل وكل بضع دقائق).
audit-chain-ok = { $count ->
    [zero] سليمة: لا توجد سجلات.
    [one] سليمة: تم التحقق من سجل واحد.
    [two] سليمة: تم التحقق من سجلين.
    [few] سليمة: تم التحقق من { $count } سجلات.
    [many] سليمة: تم التحقق من { $count } سجلًا.
   *[other] سليمة: تم التحقق من { $count } سجل.
}
audit-chain-broken = معطوبة: تم التلاعب بسجل التدقيق. أبلغ مسؤول أمن المعلومات.
audit-actor = المنفِّذ
audit-action = الإجراء
audit-object = الكائن
audit-from = من (التوقيت العالمي)
audit-to = حتى (التوقيت العالمي)
audit-time-invalid = أدخل تاريخًا ووقتًا.
audit-filter = تصفية
audit-clear = مسح
audit-filter-help = المنفِّذ: اسم المستخدم أو المعرّف. الإجراء: مطابق تمامًا أو بادئة تنتهي بنقطة. الكائن: معرّف أو نوع.
audit-none = لا توجد سجلات مطابقة.
audit-seq = الرقم
audit-at = الوقت
audit-details = التفاصيل
audit-show = عرض
audit-ip = العنوان
audit-agent = المتصفح أو العميل
audit-changes = التغييرات
audit-hash = بصمة السلسلة
# --- إدارة المنظمة والأشخاص (brief "org": /ui/org/<kind>) ---
orgadm-hub-label = الإدارة
orgadm-hub-hospitals = إدارة المستشفيات
orgadm-hub-departments = إدارة الأقسام
orgadm-hub-physicians = إدارة الأطباء
orgadm-hub-employees = إدارة الموظفين
orgadm-hub-patients = إدارة المرضى
orgadm-hub-users = إدارة حسابات المستخدمين
orgadm-breadcrumb = مسار التنقل
orgadm-back = العودة إلى القائمة
orgadm-employees = الموظفون
orgadm-patients = المرضى
orgadm-users = حسابات المستخدمين
orgadm-search = البحث بالرمز أو الرقم أو الاسم
orgadm-search-button = بحث
orgadm-new = جديد
orgadm-edit = تعديل
orgadm-create = إنشاء
orgadm-save = حفظ التغييرات
orgadm-delete = حذف
orgadm-actions = إجراءات
orgadm-empty = لم يُعثر على شيء.
orgadm-none = (لا شيء)
orgadm-col-number = الرقم الوظيفي
orgadm-col-job-title = المسمى الوظيفي
orgadm-col-mrn = رقم السجل الطبي
orgadm-col-language = اللغة المفضلة
orgadm-col-username = اسم المستخدم
orgadm-col-role = الدور
orgadm-col-scope = النطاق
orgadm-col-status = الحالة
orgadm-given-name = الاسم الأول
orgadm-family-name = اسم العائلة
orgadm-date-of-birth = تاريخ الميلاد
orgadm-email = البريد الإلكتروني
orgadm-phone = الهاتف
orgadm-channels = قنوات التواصل
orgadm-timezone-iana = المنطقة الزمنية (الاسم المعياري الدولي للمنطقة)
orgadm-initial-password = كلمة المرور الأولية (12 حرفًا على الأقل)
orgadm-temporary-password = كلمة مرور مؤقتة (على المستخدم تغييرها عند تسجيل الدخول التالي)
orgadm-channel-email = البريد الإلكتروني
orgadm-channel-sms = رسالة نصية
orgadm-channel-whatsapp = واتساب
orgadm-channel-phone = مكالمة هاتفية
orgadm-channel-post = البريد
orgadm-lang-en = الإنجليزية
orgadm-lang-ar = العربية
orgadm-scope-group = جميع المستشفيات
orgadm-active = نشط
orgadm-inactive = معطّل
orgadm-activate = تفعيل الحساب
orgadm-deactivate = تعطيل الحساب
orgadm-reset-password = إعادة تعيين كلمة المرور
orgadm-must-change = أعاد أحد المسؤولين تعيين كلمة مرورك. اختر كلمة مرور جديدة للمتابعة.
orgadm-done-created = تم الإنشاء.
orgadm-done-saved = تم حفظ التغييرات.
orgadm-done-deleted = تم الحذف.
orgadm-done-activated = تم تفعيل الحساب.
orgadm-done-deactivated = تم تعطيل الحساب وإنهاء جلساته.
orgadm-done-reset = تمت إعادة تعيين كلمة المرور؛ على المستخدم تغييرها عند تسجيل الدخول التالي.
orgadm-err-required = هذا الحقل مطلوب (من 1 إلى 200 حرف).
orgadm-err-length = أدخل من 1 إلى 200 حرف.
orgadm-err-timezone = أدخل الاسم المعياري الدولي لمنطقة زمنية (مثل منطقة الرياض).
orgadm-err-taken = هذه القيمة مستخدمة في سجل آخر.
orgadm-err-unknown = اختر سجلًا موجودًا.
orgadm-err-password = يجب ألا تقل كلمة المرور عن 12 حرفًا.
orgadm-err-other-hospital = هذا يتبع مستشفى آخر.
orgadm-err-date = أدخل تاريخًا (سنة-شهر-يوم).
orgadm-err-language = أدخل رمز لغة صحيحًا من حرفين أو ثلاثة.
orgadm-err-channel = اختر قنوات التواصل من القائمة.
orgadm-err-role = اختر دورًا من القائمة.
orgadm-err-role-scope = يتطلب هذا الدور نطاقًا مختلفًا: تحقق من المستشفى والقسم.
orgadm-err-invalid = هذه القيمة غير صالحة.
orgadm-err-own = لا يمكنك تغيير دور حسابك أو نطاقه أو حالة تفعيله، ولا حذفه.
orgadm-has-dependents = لا يمكن الحذف ما دام مرتبطًا بـ { $list }. احذفها أو انقلها أولًا.
orgadm-list-sep = {"، "}
orgadm-dep-departments = قسم/أقسام
orgadm-dep-physicians = طبيب/أطباء
orgadm-dep-employees = موظف/موظفين
orgadm-dep-patients = مريض/مرضى
orgadm-dep-users = حساب/حسابات مستخدمين
