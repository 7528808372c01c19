
BprobabilitiesJ(«øe:p„;:Œ–<>+T<è:þK:žÒ)9ö€s?vÕ;”©<