
BprobabilitiesJ([o.:ñ:Cµ²:&;~|9‡"]:)WÖ:7¸|?ç¡;¸BÔ: