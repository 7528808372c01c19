
BprobabilitiesJ(°t`<ÖY<Õ9¹<=‡à<8=<BE<ø‡K<Æô]?Í‡Ð;(s<