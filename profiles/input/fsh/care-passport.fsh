// The care passport of the person cared for (the carers' strategy's
// hospital passport): what staff must know, how the person communicates,
// their routines, likes and dislikes, and the adjustments that help, as the
// carer records them, so that a hospital reads it on admission.

CodeSystem: CarePassportSection
Id: care-passport-section
Title: "Care passport section"
Description: "The document and the sections of a care passport."
* ^caseSensitive = true
* ^content = #complete
* #care-passport "Care passport" "What hospital and other staff need to know to care for this person, recorded with their carer."
* #must-know "Things you must know about me" "What staff must know at once: conditions, risks, medicines' timing, whether the person can consent."
* #communication "How I communicate" "How the person communicates and understands, how to tell they are in pain or distressed, and what helps."
* #daily-needs "My routines and care needs" "Eating and drinking, moving, personal care, sleep, and the routines that matter."
* #likes-dislikes "What I like and do not like" "What calms, pleases or upsets the person."
* #adjustments "Adjustments that help me" "Reasonable adjustments: a quiet room, the carer staying, longer appointments, easy-read information."
* #carer "My carer" "Who the carer is, how to reach them, and what they would like to keep doing while the person is in hospital."

ValueSet: CarePassportSectionVS
Id: care-passport-section
Title: "Care passport section"
Description: "The sections of a care passport."
* insert OurValueSet
* CarePassportSection#must-know
* CarePassportSection#communication
* CarePassportSection#daily-needs
* CarePassportSection#likes-dislikes
* CarePassportSection#adjustments
* CarePassportSection#carer

Invariant: cpp-1
Description: "A care passport says what staff must know and how the person communicates."
Expression: "section.where(code.coding.where(system = 'https://fhir.carer-fhir.uk/CodeSystem/care-passport-section' and code = 'must-know').exists()).exists() and section.where(code.coding.where(system = 'https://fhir.carer-fhir.uk/CodeSystem/care-passport-section' and code = 'communication').exists()).exists()"
Severity: #error

Profile: CarePassport
Parent: $UKCoreComposition
Id: CarePassport
Title: "Care passport"
Description: "The care passport of the person cared for, for a hospital to read on admission: what staff must know, how the person communicates, their routines and care needs, likes and dislikes, the adjustments that help, and their carer; recorded by the carer (author: the CarerRelationship) with the person where they can. Sent as a FHIR document (a UKCore-Bundle of type document whose first entry it is)."
* insert ProfileStatus
* obeys cpp-1
* extension contains ReviewDate named reviewDate 0..1 MS
* status MS
* type = CarePassportSection#care-passport
* subject 1..1 MS
* subject only Reference($UKCorePatient)
* subject ^short = "The person cared for"
* date MS
* author 1..* MS
* author only Reference(CarerRelationship or $UKCorePatient or Practitioner or Organization)
* author ^short = "Who recorded it: the carer (their CarerRelationship), the person, a professional"
* title MS
* section 2..* MS
* section.code 1..1 MS
* section.code from CarePassportSectionVS (required)
* section.text 1..1 MS
* section.entry MS
* section.entry ^short = "Structured records behind the text (allergies, conditions, the carer's relationship)"
