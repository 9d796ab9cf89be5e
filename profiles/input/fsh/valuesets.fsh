// Value sets: most are the whole of one of our code systems.

RuleSet: OurValueSet
* ^status = #active
* ^experimental = false

ValueSet: CarerTypeVS
Id: carer-type
Title: "Carer type"
Description: "All carer types."
* insert OurValueSet
* include codes from system CarerType

ValueSet: CareActivityVS
Id: care-activity
Title: "Care activity"
Description: "All care activities."
* insert OurValueSet
* include codes from system CareActivity

ValueSet: HoursCaringBandVS
Id: hours-caring-band
Title: "Hours caring band"
Description: "The five Census 2021 bands, for new records (not the deprecated 0.1.0 band)."
* insert OurValueSet
* HoursCaringBand#9-or-less "9 hours a week or less"
* HoursCaringBand#10-19 "10 to 19 hours a week"
* HoursCaringBand#20-34 "20 to 34 hours a week"
* HoursCaringBand#35-49 "35 to 49 hours a week"
* HoursCaringBand#50-plus "50 or more hours a week"

ValueSet: AssessmentTypeVS
Id: assessment-type
Title: "Carer's assessment type"
Description: "All carer's assessment types."
* insert OurValueSet
* include codes from system AssessmentType

ValueSet: AssessmentStatusVS
Id: assessment-status
Title: "Carer's assessment status"
Description: "All carer's assessment statuses."
* insert OurValueSet
* include codes from system AssessmentStatus

ValueSet: Reg3OutcomeVS
Id: reg3-outcome
Title: "Carer eligibility outcomes"
Description: "The eight outcomes of reg 3(2)(b)."
* insert OurValueSet
* include codes from system Reg3Outcome

ValueSet: OutcomeAchievementVS
Id: outcome-achievement
Title: "Outcome achievement"
Description: "Able, one of the three reg 3(3) ways of being unable, or not applicable to this carer."
* insert OurValueSet
* include codes from system OutcomeAchievement

ValueSet: EligibilityDeterminationVS
Id: eligibility-determination
Title: "Eligibility determination"
Description: "Eligible, not eligible, undetermined."
* insert OurValueSet
* include codes from system EligibilityDetermination

ValueSet: WellbeingDomainVS
Id: wellbeing-domain
Title: "Wellbeing domain"
Description: "The nine wellbeing areas of the Care Act 2014 s1(2)."
* insert OurValueSet
* include codes from system WellbeingDomain

ValueSet: ImpactLevelVS
Id: impact-level
Title: "Impact level"
Description: "No, some or significant impact."
* insert OurValueSet
* include codes from system ImpactLevel

ValueSet: CarerQolLevelVS
Id: carer-qol-level
Title: "Carer quality-of-life answer level"
Description: "The three answer levels of a carer quality-of-life item."
* insert OurValueSet
* include codes from system CarerQolLevel

ValueSet: SupportTypeVS
Id: support-type
Title: "Carer support type"
Description: "All carer support types."
* insert OurValueSet
* include codes from system SupportType

ValueSet: DeliveryMechanismVS
Id: delivery-mechanism
Title: "Support delivery mechanism"
Description: "All delivery mechanisms."
* insert OurValueSet
* include codes from system DeliveryMechanism

ValueSet: PlanCategoryVS
Id: plan-category
Title: "Carer plan category"
Description: "All plan categories."
* insert OurValueSet
* include codes from system PlanCategory

ValueSet: FlagCodeVS
Id: flag-code
Title: "Carer flag"
Description: "All carer flags."
* insert OurValueSet
* include codes from system FlagCode

ValueSet: ContingencyTriggerVS
Id: contingency-trigger
Title: "Contingency plan trigger"
Description: "All contingency plan triggers."
* insert OurValueSet
* include codes from system ContingencyTrigger

ValueSet: CafSectionVS
Id: caf-section
Title: "CAF record section"
Description: "The sections of a CAF record."
* insert OurValueSet
* CafDocument#relationships
* CafDocument#status
* CafDocument#assessments
* CafDocument#plans
* CafDocument#consents

ValueSet: FamilyRoleVS
Id: family-role
Title: "Family role of a carer"
Description: "Family roles a carer may have towards the person cared for (a subset of HL7 v3 RoleCode), in-laws and step-family included: a daughter-in-law caring for her husband's mother is DAUINLAW."
* insert OurValueSet
* $v3-RoleCode#SPS "spouse"
* $v3-RoleCode#DOMPART "domestic partner"
* $v3-RoleCode#PRN "parent"
* $v3-RoleCode#CHILD "child"
* $v3-RoleCode#SIB "sibling"
* $v3-RoleCode#GRPRN "grandparent"
* $v3-RoleCode#GRNDCHILD "grandchild"
* $v3-RoleCode#EXT "extended family member"
* $v3-RoleCode#CHLDINLAW "child-in-law"
* $v3-RoleCode#DAUINLAW "daughter in-law"
* $v3-RoleCode#SONINLAW "son in-law"
* $v3-RoleCode#PRNINLAW "parent in-law"
* $v3-RoleCode#MTHINLAW "mother-in-law"
* $v3-RoleCode#FTHINLAW "father-in-law"
* $v3-RoleCode#SIBINLAW "sibling in-law"
* $v3-RoleCode#SISINLAW "sister-in-law"
* $v3-RoleCode#BROINLAW "brother-in-law"
* $v3-RoleCode#STPCHLD "step child"
* $v3-RoleCode#STPPRN "step parent"
* $v3-RoleCode#NIENEPH "niece/nephew"
* $v3-RoleCode#AUNT "aunt"
* $v3-RoleCode#UNCLE "uncle"
* $v3-RoleCode#COUSN "cousin"
* $v3-RoleCode#FRND "unrelated friend"
* $v3-RoleCode#NBOR "neighbor"

ValueSet: CarerStatusVS
Id: carer-status
Title: "Carer status"
Description: "SNOMED CT findings that record whether a person is a carer, and for whom. Only the codes listed are members; their terms are given as the UK edition's preferred terms were read when the list was made."
* insert OurValueSet
* $sct#224484003 "Patient themselves providing care"
* $sct#199361000000101 "Is no longer a carer"
* $sct#302767002 "Cares for a relative"
* $sct#224485002 "Cares for a friend"
* $sct#224486001 "Cares for a neighbour"
* $sct#276047008 "Looks after elderly dependent"
* $sct#824401000000105 "Carer of person with dementia"
* $sct#248611000000108 "Carer of a person with a terminal illness"
* $sct#413760003 "Caregiver of a person with chronic disease"
* $sct#413761004 "Caregiver of a person with learning disability"
* $sct#413762006 "Caregiver of a person with mental health problem"
* $sct#413763001 "Caregiver of a person with physical disability"
* $sct#413764007 "Caregiver of a person with sensory impairment"
* $sct#413765008 "Caregiver of a person with substance misuse"

ValueSet: CafPurposeVS
Id: caf-purpose
Title: "CAF sharing purpose"
Description: "The purposes for which a carer's CAF data may be shared (HL7 v3 ActReason)."
* insert OurValueSet
* $v3-ActReason#CAREMGT "care management"
* $v3-ActReason#TREAT "treatment"
* $v3-ActReason#ETREAT "emergency treatment"
* $v3-ActReason#COC "coordination of care"
* $v3-ActReason#PUBHLTH "public health"

ValueSet: IdentificationSourceVS
Id: identification-source
Title: "Where a carer was identified"
Description: "All identification sources."
* insert OurValueSet
* include codes from system IdentificationSource

ValueSet: RepresentativeAuthorityVS
Id: representative-authority
Title: "Authority of a legitimate representative"
Description: "All representative authorities."
* insert OurValueSet
* include codes from system RepresentativeAuthority
