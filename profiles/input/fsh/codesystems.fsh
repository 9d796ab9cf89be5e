// The code systems we publish. Wording is ours; statutory references are to
// the Care Act 2014, the Care and Support (Eligibility Criteria) Regulations
// 2015 (reg 3) and the Children Act 1989.

CodeSystem: CarerType
Id: carer-type
Title: "Carer type"
Description: "The kinds of unpaid carer the CAF distinguishes; a carer may be several at once (a young carer who is also a sibling carer, an older carer who works)."
* ^caseSensitive = true
* ^content = #complete
* #young-carer "Young carer" "A person under 18 who provides or intends to provide care for another person (Children Act 1989 s17ZA)."
* #young-adult-carer "Young adult carer" "A carer aged 18 to 25."
* #adult-carer "Adult carer" "An adult who provides or intends to provide care for another adult (Care Act 2014 s10(3))."
* #parent-carer "Parent carer" "A person aged 18 or over who provides or intends to provide care for a disabled child for whom they have parental responsibility (Children Act 1989 s17ZD)."
* #older-carer "Older carer" "A carer aged 65 or over."
* #working-carer "Working carer" "A carer in paid work."
* #sibling-carer "Sibling carer" "A carer who cares for a brother or sister."

CodeSystem: CareActivity
Id: care-activity
Title: "Care activity"
Description: "What a carer does for the person they care for."
* ^caseSensitive = true
* ^content = #complete
* #personal-care "Personal care" "Washing, dressing, toileting, eating."
* #physical-help "Physical help" "Moving about, getting in and out of bed, transfers."
* #practical-help "Practical help" "Shopping, cooking, cleaning, laundry."
* #medication "Medication" "Giving or prompting medicines, managing health appointments."
* #emotional-support "Emotional support" "Company, reassurance, keeping an eye on the person."
* #supervision "Supervision" "Being there to keep the person safe, day or night."
* #finances "Finances and paperwork" "Managing money, bills and correspondence."
* #transport "Transport and accompanying" "Taking the person to appointments and out."
* #communication "Communication" "Helping the person communicate or interpreting for them."

CodeSystem: HoursCaringBand
Id: hours-caring-band
Title: "Hours caring band"
Description: "Bands of hours of unpaid care a week, as the 2021 Census of England and Wales asks them, so that carers caring 9 hours or less and 50 hours or more can be counted. The 0.1.0 band '0 to 19' is kept, deprecated, for data recorded with it; ConceptMap HoursCaringBandLegacy says how it relates to the Census bands."
* ^caseSensitive = true
* ^content = #complete
* ^property[0].code = #status
* ^property[0].uri = "http://hl7.org/fhir/concept-properties#status"
* ^property[0].type = #code
* ^property[0].description = "deprecated: kept for data recorded with the guide's 0.1.0 bands; not for new records."
* #9-or-less "9 hours a week or less" "Census 2021: 9 hours a week or less."
* #10-19 "10 to 19 hours a week" "Census 2021: 10 to 19 hours a week."
* #20-34 "20 to 34 hours a week" "Census 2021: 20 to 34 hours a week."
* #35-49 "35 to 49 hours a week" "Census 2021: 35 to 49 hours a week."
* #50-plus "50 or more hours a week" "Census 2021: 50 or more hours a week."
* #0-19 "0 to 19 hours a week (deprecated)" "The guide's 0.1.0 band: the Census bands 9-or-less and 10-19 together."
  * ^property[0].code = #status
  * ^property[0].valueCode = #deprecated

CodeSystem: AssessmentType
Id: assessment-type
Title: "Carer's assessment type"
Description: "The statutory assessments of a carer's needs."
* ^caseSensitive = true
* ^content = #complete
* #carers-assessment "Carer's assessment" "Assessment of an adult carer's needs for support (Care Act 2014 s10)."
* #joint-assessment "Joint assessment" "Carer's assessment combined with the needs assessment of the person cared for (Care Act 2014 s12(5))."
* #young-carers-needs-assessment "Young carer's needs assessment" "Children Act 1989 s17ZA."
* #parent-carers-needs-assessment "Parent carer's needs assessment" "Children Act 1989 s17ZD."
* #transition-assessment "Transition assessment" "Assessment of a young carer approaching 18 (Care Act 2014 s63)."
* #review "Review" "Review of a carer's support plan and of the outcomes it serves (Care Act 2014 s27), with the carer's quality of life measured again."

CodeSystem: AssessmentStatus
Id: assessment-status
Title: "Carer's assessment status"
Description: "Where a carer's assessment episode stands, in the words practitioners use."
* ^caseSensitive = true
* ^content = #complete
* #offered "Offered" "An assessment has been offered to the carer."
* #requested "Requested" "The carer or a professional has asked for an assessment."
* #declined "Declined" "The carer declined the assessment (Care Act 2014 s11(1) lets an LA assess anyway where the carer is at risk)."
* #in-progress "In progress" "The assessment has started."
* #completed "Completed" "The assessment is complete and its determination recorded."

CodeSystem: Reg3Outcome
Id: reg3-outcome
Title: "Carer eligibility outcomes (reg 3(2)(b))"
Description: "The eight outcomes of the Care and Support (Eligibility Criteria) Regulations 2015 reg 3(2)(b); a carer unable to achieve any of them meets condition (b)."
* ^caseSensitive = true
* ^content = #complete
* #child-care "Caring responsibilities for a child" "Carrying out any caring responsibilities the carer has for a child."
* #other-caring "Care for other persons" "Providing care to other persons for whom the carer provides care."
* #home "A habitable home" "Maintaining a habitable home environment in the carer's home."
* #nutrition "Nutrition" "Managing and maintaining nutrition."
* #relationships "Family and personal relationships" "Developing and maintaining family or other personal relationships."
* #work-education "Work, training, education, volunteering" "Engaging in work, training, education or volunteering."
* #community "Local facilities and services" "Making use of necessary facilities or services in the local community, including recreational facilities or services."
* #recreation "Recreational activities" "Engaging in recreational activities."

CodeSystem: OutcomeAchievement
Id: outcome-achievement
Title: "Outcome achievement (reg 3(3))"
Description: "Whether a carer can achieve an outcome; reg 3(3) counts a carer as unable in three circumstances."
* ^caseSensitive = true
* ^content = #complete
* #able "Able to achieve" "Able to achieve the outcome without assistance, pain, distress, anxiety or danger."
* #needs-assistance "Unable without assistance" "Unable to achieve it without assistance (reg 3(3)(a))."
* #pain-distress-anxiety "Significant pain, distress or anxiety" "Able without assistance, but doing so causes the carer significant pain, distress or anxiety (reg 3(3)(b))."
* #endangers-health-safety "Endangers health or safety" "Able without assistance, but doing so endangers or is likely to endanger the health or safety of the carer or others (reg 3(3)(c))."
* #not-applicable "Not applicable" "The outcome does not arise for this carer (no child to care for, nobody else cared for); it is not an outcome the carer is unable to achieve."

CodeSystem: EligibilityCriterion
Id: eligibility-criterion
Title: "Carer eligibility criterion"
Description: "The parts of a carer's eligibility determination under reg 3, as components of a CarerEligibility observation."
* ^caseSensitive = true
* ^content = #complete
* #determination "Eligibility determination" "Whether the carer's needs meet the eligibility criteria (reg 3(1))."
* #necessary-care "Needs arise from providing necessary care" "Condition (a): the needs arise as a consequence of providing necessary care for an adult."
* #health-at-risk "Health deteriorating or at risk" "Reg 3(2)(a): the carer's physical or mental health is, or is at risk of, deteriorating."
* #outcome-not-achieved "Unable to achieve an outcome" "Reg 3(2)(b): the carer is unable to achieve the outcome in the component's value."
* #significant-impact "Significant impact on wellbeing" "Condition (c): there is, or is likely to be, a significant impact on the carer's well-being."

CodeSystem: EligibilityDetermination
Id: eligibility-determination
Title: "Eligibility determination"
Description: "The result of a reg 3 determination."
* ^caseSensitive = true
* ^content = #complete
* #eligible "Eligible" "The carer's needs meet the eligibility criteria."
* #not-eligible "Not eligible" "The carer's needs do not meet the eligibility criteria."
* #undetermined "Undetermined" "The answers given do not settle the determination."

CodeSystem: WellbeingDomain
Id: wellbeing-domain
Title: "Wellbeing domain (Care Act 2014 s1(2))"
Description: "The nine areas of well-being of the Care Act 2014 s1(2)."
* ^caseSensitive = true
* ^content = #complete
* #dignity "Personal dignity" "Personal dignity (including treatment of the individual with respect)."
* #health "Physical and mental health and emotional wellbeing"
* #protection "Protection from abuse and neglect"
* #control "Control over day-to-day life" "Control by the individual over day-to-day life (including over care and support and the way it is provided)."
* #participation "Participation in work, education, training or recreation"
* #social-economic "Social and economic wellbeing"
* #relationships "Domestic, family and personal relationships"
* #accommodation "Suitability of living accommodation"
* #contribution "Contribution to society" "The individual's contribution to society."

CodeSystem: ImpactLevel
Id: impact-level
Title: "Impact level"
Description: "How much caring affects an area of the carer's life."
* ^caseSensitive = true
* ^content = #complete
* #none "No impact"
* #some "Some impact"
* #significant "Significant impact"

CodeSystem: CarerQolLevel
Id: carer-qol-level
Title: "Carer quality-of-life answer level"
Description: "The three answer levels of each carer quality-of-life item, with the score each carries (2, 1, 0); six items give a total of 0 to 12."
* ^caseSensitive = true
* ^content = #complete
* ^property[0].code = #score
* ^property[0].type = #integer
* ^property[0].description = "The item score this level carries."
* #high "As much as I want" "The carer has as much of this as they want."
  * ^property[0].code = #score
  * ^property[0].valueInteger = 2
* #some "Some, but not enough" "The carer has some of this, but not as much as they want."
  * ^property[0].code = #score
  * ^property[0].valueInteger = 1
* #low "Little or none" "The carer has little or none of this."
  * ^property[0].code = #score
  * ^property[0].valueInteger = 0

CodeSystem: SupportType
Id: support-type
Title: "Carer support type"
Description: "The support a carer's plan or a contingency plan provides."
* ^caseSensitive = true
* ^content = #complete
* #break "Break from caring" "A short break or respite for the carer, with replacement care for the person cared for."
* #sitting-service "Sitting service" "Someone sits with the person cared for so the carer can go out."
* #information-advice "Information and advice" "Information, advice, signposting and universal services."
* #emotional-support "Emotional support" "Counselling or one-to-one emotional support."
* #training "Carer training" "Training in caring tasks (moving and handling, medication)."
* #equipment "Equipment and adaptations" "Equipment or technology that helps the carer."
* #health-check "Carer health check" "A health check for the carer from their GP practice."
* #bereavement-support "Bereavement support" "Support after the person cared for has died."
* #emergency-respite "Emergency respite" "Replacement care that starts when the carer suddenly cannot care."
* #employment-support "Employment support" "Help to stay in, return to or find paid work alongside caring: advice on flexible working and carer's leave, talking to an employer, training for work."
* #advocacy "Advocacy" "An advocate who helps the carer take part in assessment and planning and have their views heard (Care Act 2014 s67)."
* #grant-payment "Grant or small payment" "A one-off carer's grant or small payment (for a short break, a course, equipment, driving lessons), not a personal budget."
* #hospital-discharge-support "Support around a hospital stay" "Support while the person cared for is in hospital or being discharged: being involved in discharge planning, information, practical help on the return home."
* #peer-support-group "Peer support group" "A carers' group or peer support network, in person or online."
* #digital-resources "Digital resources" "Online information, courses, apps and tools for carers."

CodeSystem: DeliveryMechanism
Id: delivery-mechanism
Title: "Support delivery mechanism"
Description: "How a carer's support is delivered and paid for, as the CLD return counts it."
* ^caseSensitive = true
* ^content = #complete
* #direct-payment "Direct Payment" "The carer receives the personal budget as a direct payment."
* #part-direct-payment "Part Direct Payment" "Part of the personal budget is a direct payment."
* #managed-personal-budget "Managed Personal Budget" "The local authority manages the personal budget for the carer."
* #commissioned-support "Commissioned support" "Support commissioned by the local authority, without a personal budget."
* #information-advice "Information and advice only" "Information, advice and universal services; no direct support."

CodeSystem: PlanCategory
Id: plan-category
Title: "Carer plan category"
Description: "The kinds of plan in the CAF."
* ^caseSensitive = true
* ^content = #complete
* #carer-support-plan "Carer's support plan" "The support plan of a carer (Care Act 2014 s25)."
* #contingency-plan "Contingency plan (Plan B)" "What happens when the carer suddenly cannot care."
* #cared-for-plan "Care and support plan of the person cared for" "The plan of the person cared for, with the carer in its care team."

CodeSystem: FlagCode
Id: flag-code
Title: "Carer flag"
Description: "Flags that tell every professional a carer is involved."
* ^caseSensitive = true
* ^content = #complete
* #is-a-carer "Is a carer" "This person provides unpaid care for someone."
* #has-a-carer "Has a carer" "This person is cared for by an unpaid carer."
* #young-carer "Young carer" "This person is a young carer (under 18)."

CodeSystem: TaskIo
Id: task-io
Title: "Carer's assessment inputs and outputs"
Description: "The roles of a carer's assessment task's inputs and outputs."
* ^caseSensitive = true
* ^content = #complete
* #assessment-response "Assessment response" "The questionnaire response the assessment rests on."
* #eligibility "Eligibility determination" "The reg 3 determination."
* #support-plan "Support plan" "The carer's support plan."
* #quality-of-life "Quality of life" "The carer's quality-of-life score at this assessment or review."

CodeSystem: CafObservation
Id: caf-observation
Title: "CAF observation codes"
Description: "Codes of observations the CAF records that SNOMED CT has no single concept for."
* ^caseSensitive = true
* ^content = #complete
* #carer-eligibility "Carer's eligibility determination" "The determination of a carer's eligibility for support (reg 3)."
* #disability "Disability and long-term conditions" "Whether the person has a long-term condition that limits day-to-day activities, the kinds of disability, and their general health."
* #disability-type "Kind of disability" "A kind of disability (NHS Data Dictionary DISABILITY CODE)."
* #general-health "General health" "The person's own rating of their health in general."
* #carer-qol "Carer's quality of life" "The carer quality-of-life score (0 to 12) from the six items."

CodeSystem: CafDocument
Id: caf-document
Title: "CAF document and section codes"
Description: "The CAF record document and its sections."
* ^caseSensitive = true
* ^content = #complete
* #caf-record "CAF record" "The Common Assessment Framework data set of one person."
* #relationships "Caring relationships"
* #status "Carer status and flags"
* #assessments "Assessments and determinations"
* #plans "Plans"
* #consents "Consents"

CodeSystem: CafConsentCategory
Id: caf-consent-category
Title: "CAF consent category"
Description: "The kind of consent a CafConsent records."
* ^caseSensitive = true
* ^content = #complete
* #caf-sharing "Consent to share CAF data" "Consent to share Common Assessment Framework data between the organisations named."

CodeSystem: ContingencyTrigger
Id: contingency-trigger
Title: "Contingency plan trigger"
Description: "What starts a contingency plan."
* ^caseSensitive = true
* ^content = #complete
* #carer-ill "Carer taken ill" "The carer is suddenly ill or admitted to hospital."
* #carer-injured "Carer injured" "The carer has an accident."
* #carer-died "Carer died"
* #carer-unreachable "Carer cannot be reached" "The carer cannot be reached when expected."
* #family-emergency "Family emergency" "The carer must attend to another emergency."

CodeSystem: IdentificationSource
Id: identification-source
Title: "Where a carer was identified"
Description: "The setting in which a carer was first recognised as a carer: the strategy and the review ask every setting a carer meets (GP practice, hospital, school or college, carers' organisation, employer, social care) to identify carers, and the places carers are identified to be counted."
* ^caseSensitive = true
* ^content = #complete
* #gp-practice "GP practice" "Identified by their GP practice."
* #hospital-admission "Hospital, at admission" "Identified by a hospital when the person they care for was admitted."
* #hospital-discharge "Hospital, at discharge" "Identified by a hospital ward when the person they care for was discharged."
* #hospital "Hospital, at another time" "Identified by a hospital during a stay or outpatient visit."
* #school-college "School or college" "Identified by the school or college they attend (young carers and young adult carers)."
* #carers-organisation "Carers' organisation" "Identified by a carers' support organisation."
* #employer "Employer" "Identified by their employer (working carers)."
* #social-care "Social care" "Identified by local authority social care, during the assessment or review of the person they care for."
* #self-identified "Self-identified" "The carer came forward themselves."

CodeSystem: RepresentativeAuthority
Id: representative-authority
Title: "Authority of a legitimate representative"
Description: "The legal authorities under which someone may make decisions, consent included, for a person who lacks capacity (Mental Capacity Act 2005) or for a child."
* ^caseSensitive = true
* ^content = #complete
* #lpa-health-welfare "Lasting power of attorney for health and welfare" "An attorney under a registered lasting power of attorney for health and welfare."
* #lpa-property-affairs "Lasting power of attorney for property and financial affairs" "An attorney under a registered lasting power of attorney for property and financial affairs."
* #epa "Enduring power of attorney" "An attorney under a registered enduring power of attorney (made before October 2007; property and affairs only)."
* #deputy-personal-welfare "Deputy for personal welfare" "A deputy appointed by the Court of Protection for personal welfare."
* #deputy-property-affairs "Deputy for property and affairs" "A deputy appointed by the Court of Protection for property and affairs."
* #parental-responsibility "Parental responsibility" "A person with parental responsibility for a child."
