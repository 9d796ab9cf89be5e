// The working carer's passport: the adjustments an employer has agreed
// with a carer in its staff, as a signed FHIR document the carer holds and
// shows a new employer or manager ("a digital solution to enable this
// document to travel with you between roles and organisations"), and the
// employer-side flag on a staff record.

CodeSystem: WorkplaceAdjustment
Id: workplace-adjustment
Title: "Workplace adjustment for a working carer"
Description: "Adjustments an employer agrees with a carer on its staff so that they can work and care."
* ^caseSensitive = true
* ^content = #complete
* #flexible-hours "Flexible working hours" "Start and finish times, or the days worked, arranged around caring."
* #compressed-hours "Compressed hours" "The same hours worked over fewer days."
* #reduced-hours "Reduced hours" "Part-time or reduced hours for a period."
* #home-working "Working from home" "Working from home or hybrid working on agreed days."
* #phone-access "Phone access at work" "Keeping a mobile phone on at work, or a private place to take calls from or about the person cared for."
* #carers-leave "Carer's leave" "Leave to care or arrange care (the statutory week of carer's leave a year, and any paid leave the employer adds)."
* #emergency-time-off "Time off in an emergency" "Leaving at short notice when care breaks down, and time off to deal with it."
* #planned-appointments "Time for appointments" "Time off to go with the person cared for to appointments, agreed in advance."
* #shift-notice "Shifts agreed in advance" "Rotas or shifts fixed well ahead, and not changed at short notice."
* #parking "Parking near the workplace" "A parking space close by, for leaving quickly."
* #carers-network "Staff carers' network" "Time to take part in the staff carers' network or support group."
* #other "Other adjustment" "Another adjustment, described in the section's text."

ValueSet: WorkplaceAdjustmentVS
Id: workplace-adjustment
Title: "Workplace adjustment for a working carer"
Description: "All workplace adjustments."
* insert OurValueSet
* include codes from system WorkplaceAdjustment

CodeSystem: WorkingCarerDocument
Id: working-carer-document
Title: "Working carer's passport document and section codes"
Description: "The working carer's passport document and its sections other than the adjustments (which are coded by workplace-adjustment)."
* ^caseSensitive = true
* ^content = #complete
* #working-carers-passport "Working carer's passport" "The adjustments an employer has agreed with a carer on its staff."
* #caring "About my caring" "What the carer chooses to tell an employer about their caring."

ValueSet: PassportSectionVS
Id: passport-section
Title: "Working carer's passport section"
Description: "A passport's sections: the carer's own account of their caring, and one section per agreed adjustment."
* insert OurValueSet
* WorkingCarerDocument#caring
* include codes from system WorkplaceAdjustment

CodeSystem: EmployerFlag
Id: employer-flag
Title: "Employer flag"
Description: "Flags an employer keeps on a staff record."
* ^caseSensitive = true
* ^content = #complete
* #working-carer "Working carer" "This member of staff is a carer, with a working carer's passport."

Invariant: wcp-1
Description: "A working carer's passport's first entry is its WorkingCarersPassportComposition."
Expression: "entry.first().resource.is(Composition) and entry.first().resource.type.coding.where(system = 'https://fhir.carer-fhir.uk/CodeSystem/working-carer-document' and code = 'working-carers-passport').exists()"
Severity: #error

Invariant: wcp-2
Description: "The signature is a JSON Web Signature over the FHIR JSON document."
Expression: "signature.exists() implies (signature.sigFormat = 'application/jose' and signature.targetFormat = 'application/fhir+json')"
Severity: #error

Profile: WorkingCarersPassport
Parent: $UKCoreBundle
Id: WorkingCarersPassport
Title: "Working carer's passport"
Description: "The adjustments an employer has agreed with a carer on its staff, as a FHIR document the carer holds: a WorkingCarersPassportComposition, the carer, the employer (by ODS code or another organisation identifier) and who agreed. Signed by the employer as a detached JSON Web Signature (ES384 or RS384) in Bundle.signature over the document's canonical JSON (fhir_core::caf::passport signs and verifies), so that a new employer or manager can check it before adopting the adjustments."
* insert ProfileStatus
* obeys wcp-1 and wcp-2
* identifier 1..1 MS
* type = #document
* timestamp 1..1 MS
* entry 1..* MS
* entry.fullUrl 1..1
* entry.resource 1..1
* signature MS
* signature ^short = "The employer's signature: a detached JWS over the canonical JSON of the Bundle without id, meta and signature"
* signature.type MS
* signature.when MS
* signature.who MS
* signature.who ^short = "The employer (by identifier)"
* signature.sigFormat MS
* signature.targetFormat MS
* signature.data 1..1 MS

Profile: WorkingCarersPassportComposition
Parent: $UKCoreComposition
Id: WorkingCarersPassportComposition
Title: "Working carer's passport composition"
Description: "The contents of a working carer's passport: whose it is (the carer), the employer who agreed it (author), who agreed it (attesters: the carer and their manager), when it is to be reviewed, and one section per agreed adjustment, coded, with what was agreed in its text."
* insert ProfileStatus
* extension contains ReviewDate named reviewDate 1..1 MS
* type = WorkingCarerDocument#working-carers-passport
* subject 1..1 MS
* subject only Reference($UKCorePatient)
* subject ^short = "The carer (who holds the passport)"
* author 1..* MS
* author only Reference($UKCoreOrganization)
* author ^short = "The employer"
* attester 1..* MS
* attester ^short = "Who agreed the adjustments: the carer and their manager"
* attester.party 1..1 MS
* section 1..* MS
* section.code 1..1
* section.code from PassportSectionVS (required)
* section.text 1..1 MS
* section.text ^short = "What was agreed"

Profile: WorkingCarerFlag
Parent: $UKCoreFlag
Id: WorkingCarerFlag
Title: "Working carer flag (staff record)"
Description: "On an employer's staff record: this member of staff is a carer, with the passport that records their adjustments. Closed (inactive, period ended) when they no longer care or leave."
* insert ProfileStatus
* obeys carer-flag-1
* status MS
* code = EmployerFlag#working-carer
* subject MS
* subject only Reference($UKCorePractitioner)
* subject ^short = "The member of staff (their staff record)"
* author 1..1 MS
* author only Reference($UKCoreOrganization)
* author ^short = "The employer"
* period 1..1 MS
* period.start 1..1 MS
* period obeys carer-period-1
