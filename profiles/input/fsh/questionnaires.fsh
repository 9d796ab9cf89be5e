// The carer's assessment questionnaires: adult carers (Care Act 2014 s10),
// young carers (Children Act 1989 s17ZA) and parent carers (s17ZD). The
// wording is ours. fhir-core's rules read answers by linkId, so linkIds are
// part of the interface: change them only with the rules.

RuleSet: Question(id, type, text)
* item[=].item[+].linkId = "{id}"
* item[=].item[=].type = {type}
* item[=].item[=].text = "{text}"

RuleSet: ChoiceQuestion(id, text, valueSet, repeats)
* item[=].item[+].linkId = "{id}"
* item[=].item[=].type = #choice
* item[=].item[=].text = "{text}"
* item[=].item[=].answerValueSet = Canonical({valueSet})
* item[=].item[=].repeats = {repeats}

RuleSet: Group(id, text)
* item[+].linkId = "{id}"
* item[=].type = #group
* item[=].text = "{text}"

RuleSet: QuestionnaireCommon(id, version)
* url = "https://fhir.carer-fhir.uk/Questionnaire/{id}"
* version = "{version}"
* status = #active
* experimental = false
* subjectType = #Patient
* publisher = "carer-fhir"

RuleSet: CaringRole
* insert Group(caring-role, About your caring)
* insert Question(caring-role.cared-for, #string, Who do you care for?)
* insert Question(caring-role.hours, #integer, About how many hours a week do you spend caring?)
* insert ChoiceQuestion(caring-role.activities, What do you do for the person you care for?, CareActivityVS, true)
* insert Question(caring-role.lives-with, #boolean, Do you live with the person you care for?)
* insert Question(caring-role.other-help, #text, Does anyone else help with caring? Who and how?)
* insert Question(caring-role.others-cared-for, #text, Do you care for anyone else? Who?)

RuleSet: WillingAble
* insert Group(willing-able, Continuing to care)
* insert Question(willing-able.able, #boolean, Are you able to carry on caring?)
* insert Question(willing-able.willing, #boolean, Are you willing to carry on caring?)

RuleSet: Wellbeing
* insert Group(wellbeing, How caring affects your wellbeing)
* insert ChoiceQuestion(wellbeing.dignity, Being treated with dignity and respect, ImpactLevelVS, false)
* insert ChoiceQuestion(wellbeing.health, Your physical and mental health and emotional wellbeing, ImpactLevelVS, false)
* insert ChoiceQuestion(wellbeing.protection, Being safe from abuse and neglect, ImpactLevelVS, false)
* insert ChoiceQuestion(wellbeing.control, Having control over your day-to-day life, ImpactLevelVS, false)
* insert ChoiceQuestion(wellbeing.participation, Work\, education\, training or recreation, ImpactLevelVS, false)
* insert ChoiceQuestion(wellbeing.social-economic, Your social and economic wellbeing, ImpactLevelVS, false)
* insert ChoiceQuestion(wellbeing.relationships, Your family and personal relationships, ImpactLevelVS, false)
* insert ChoiceQuestion(wellbeing.accommodation, Where you live, ImpactLevelVS, false)
* insert ChoiceQuestion(wellbeing.contribution, What you contribute to your community, ImpactLevelVS, false)
* insert Question(outcomes-wished, #text, What would you like to be different? What outcomes do you want to achieve?)

RuleSet: Reg3
* insert Group(eligibility, Your needs as a carer)
* insert Question(necessary-care, #boolean, Is the care you give necessary - would the person's needs go unmet without it?)
* insert Question(health-at-risk, #boolean, Is your physical or mental health getting worse\, or at risk of getting worse\, because of caring?)
* insert Question(significant-impact, #boolean, Overall\, does caring have\, or is it likely to have\, a significant impact on your wellbeing?)
* insert Group(reg3, Things you may be unable to do because of caring)
* insert ChoiceQuestion(reg3-child-care, Looking after any children you are responsible for, OutcomeAchievementVS, true)
* insert ChoiceQuestion(reg3-other-caring, Caring for anyone else you look after, OutcomeAchievementVS, true)
* insert ChoiceQuestion(reg3-home, Keeping your home in a fit state to live in, OutcomeAchievementVS, true)
* insert ChoiceQuestion(reg3-nutrition, Eating well and having regular meals, OutcomeAchievementVS, true)
* insert ChoiceQuestion(reg3-relationships, Keeping up relationships with family and friends, OutcomeAchievementVS, true)
* insert ChoiceQuestion(reg3-work-education, Work\, training\, education or volunteering, OutcomeAchievementVS, true)
* insert ChoiceQuestion(reg3-community, Using local facilities and services, OutcomeAchievementVS, true)
* insert ChoiceQuestion(reg3-recreation, Having time for leisure and recreation, OutcomeAchievementVS, true)

RuleSet: WorkEducation
* insert Group(work, Work\, education\, training and leisure)
* insert Question(work.in-work, #boolean, Are you in paid work?)
* insert Question(work.wishes, #boolean, Would you like to work\, study\, train or have more leisure time?)
* insert Question(work.details, #text, Tell us more)

RuleSet: InvolveAndEmergency
* insert Group(involve, People to involve)
* insert Question(involve.who, #text, Is there anyone you would like us to involve in this assessment?)
* insert Group(emergency, If you could not care)
* insert Question(emergency.has-plan, #boolean, Is there a plan for what happens if you suddenly cannot care?)
* insert Question(emergency.wants-plan, #boolean, Would you like help to make one?)
* insert Question(emergency.who, #text, Who could step in?)

RuleSet: QolItem(id, text)
* item[=].item[+].linkId = "{id}"
* item[=].item[=].type = #choice
* item[=].item[=].text = "{text}"
* item[=].item[=].required = true
* item[=].item[=].answerOption[+].valueCoding = CarerQolLevel#high "As much as I want"
* item[=].item[=].answerOption[=].extension[+].url = $ordinalValue
* item[=].item[=].answerOption[=].extension[=].valueDecimal = 2
* item[=].item[=].answerOption[+].valueCoding = CarerQolLevel#some "Some, but not enough"
* item[=].item[=].answerOption[=].extension[+].url = $ordinalValue
* item[=].item[=].answerOption[=].extension[=].valueDecimal = 1
* item[=].item[=].answerOption[+].valueCoding = CarerQolLevel#low "Little or none"
* item[=].item[=].answerOption[=].extension[+].url = $ordinalValue
* item[=].item[=].answerOption[=].extension[=].valueDecimal = 0

RuleSet: Qol
* insert Group(qol, Your quality of life as a carer)
* insert QolItem(qol-occupation, Doing things you value and enjoy with your time)
* insert QolItem(qol-control, Control over your daily life)
* insert QolItem(qol-self-care, Looking after yourself - sleep\, food\, your own health)
* insert QolItem(qol-safety, Feeling safe)
* insert QolItem(qol-social, Contact with people you like)
* insert QolItem(qol-support, Encouragement and support in your caring role)

Instance: carer-assessment
InstanceOf: CarerAssessmentQuestionnaire
Usage: #definition
Title: "Carer's assessment"
Description: "The assessment of an adult carer's needs for support (Care Act 2014 s10), for self-assessment or with a practitioner: the caring role (and anyone else cared for), able and willing to continue, wellbeing, outcomes wished, the reg 3 conditions and outcomes, work and education, people to involve, emergency planning, whether children in the household help with caring (to find young carers no one knows of), and carer quality of life."
* insert QuestionnaireCommon(carer-assessment, 0.2.0)
* name = "CarerAssessment"
* title = "Carer's assessment"
* insert CaringRole
* insert WillingAble
* insert Wellbeing
* insert Reg3
* insert WorkEducation
* insert InvolveAndEmergency
* insert Group(household, Children in your household)
* insert Question(household.children-help, #boolean, Do any children or young people under 18 in your household help with caring?)
* insert Question(household.children-help-details, #text, Who are they and what do they do?)
* insert Qol

Instance: young-carer-assessment
InstanceOf: CarerAssessmentQuestionnaire
Usage: #definition
Title: "Young carer's needs assessment"
Description: "The needs assessment of a young carer (Children Act 1989 s17ZA): as the adult form, but asking whether the caring is appropriate for the young carer and about their education, without the reg 3 section (young carers' needs are not determined by reg 3)."
* insert QuestionnaireCommon(young-carer-assessment, 0.2.0)
* name = "YoungCarerAssessment"
* title = "Young carer's needs assessment"
* insert CaringRole
* insert Group(appropriateness, Is caring right for you?)
* insert Question(appropriateness.appropriate, #boolean, Do you think it is right for you to be doing this much caring?)
* insert Question(appropriateness.school, #boolean, Does caring make it hard to go to school or college or do homework?)
* insert Question(appropriateness.wishes, #text, What would you like to change?)
* insert WillingAble
* insert Wellbeing
* insert InvolveAndEmergency
* insert Qol

Instance: parent-carer-assessment
InstanceOf: CarerAssessmentQuestionnaire
Usage: #definition
Title: "Parent carer's needs assessment"
Description: "The needs assessment of a parent carer of a disabled child (Children Act 1989 s17ZD): as the adult form, with the needs of the child and of the family, without the reg 3 section."
* insert QuestionnaireCommon(parent-carer-assessment, 0.2.0)
* name = "ParentCarerAssessment"
* title = "Parent carer's needs assessment"
* insert CaringRole
* insert Group(family, Your child and your family)
* insert Question(family.child-needs, #text, What support does your child need?)
* insert Question(family.other-children, #boolean, Do you have other children at home?)
* insert WillingAble
* insert Wellbeing
* insert WorkEducation
* insert InvolveAndEmergency
* insert Qol
