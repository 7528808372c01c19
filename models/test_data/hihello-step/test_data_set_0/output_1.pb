BprobabilitiesJÚ{µ=
Ç´=(™%?¬Ï´=)$´=