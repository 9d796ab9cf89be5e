// Arthur's care passport, which Mary keeps and takes to hospital with him.

RuleSet: PassportSection(i, code, display, text)
* section[{i}].title = "{display}"
* section[{i}].code = CarePassportSection#{code} "{display}"
* section[{i}].text.status = #additional
* section[{i}].text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{text}</p></div>"

Instance: arthur-care-passport
InstanceOf: CarePassport
Title: "Arthur's care passport"
Description: "What a hospital needs to know to care for Arthur, who has dementia, recorded by Mary."
* meta.profile[+] = Canonical($UKCoreComposition)
* extension[reviewDate].valueDate = "2026-04-01"
* status = #final
* type = CarePassportSection#care-passport "Care passport"
* subject = Reference(arthur-jones)
* date = "2025-10-10T10:00:00Z"
* author[0] = Reference(mary-cares-for-arthur)
* title = "Care passport: Arthur Jones"
* insert PassportSection(0, must-know, Things you must know about me, I have Alzheimer's dementia. I take donepezil at 8pm. I cannot always tell you I am in pain. My son Sam has lasting power of attorney for health and welfare.)
* insert PassportSection(1, communication, How I communicate, Speak slowly and one thing at a time; I hear better on my left. If I pull at my clothes I may be in pain or need the toilet.)
* insert PassportSection(2, daily-needs, My routines and care needs, I need help to wash and dress. I eat well with a teaspoon and small portions. I walk with a frame and may get up at night.)
* insert PassportSection(3, likes-dislikes, What I like and do not like, I like brass band music and talking about the railways. I do not like noisy rooms or being rushed.)
* insert PassportSection(4, adjustments, Adjustments that help me, A side room if possible. Please let Mary stay with me at mealtimes and in the evening.)
* insert PassportSection(5, carer, My carer, My wife Mary is my main carer\, on 07700 900456\, and would like to help with meals while I am in hospital.)
* section[5].entry[0] = Reference(mary-cares-for-arthur)

Instance: arthur-care-passport-document
InstanceOf: Bundle
Title: "Arthur's care passport, as a document"
Description: "The care passport as Mary's system sends it to the hospital: the Composition, Arthur and Mary's caring relationship."
Usage: #example
* meta.profile[0] = Canonical($UKCoreBundle)
* identifier.system = "https://fhir.carer-fhir.uk/Id/care-passport"
* identifier.value = "a0c3e5f7-1b2d-4e6f-8a9b-0c1d2e3f4a5b"
* type = #document
* timestamp = "2025-10-10T10:00:00Z"
* insert Entry(0, Composition, arthur-care-passport, arthur-care-passport)
* insert Entry(1, Patient, arthur-jones, arthur-jones)
* insert Entry(2, RelatedPerson, mary-cares-for-arthur, mary-cares-for-arthur)
* insert Entry(3, Patient, mary-jones, mary-jones)
