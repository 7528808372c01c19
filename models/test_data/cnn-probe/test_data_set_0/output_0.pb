
BprobabilitiesJ( K‚:cì;Û:U>;S¶ƒ9i«:ë¹:1R|?jÖµ:qû;