
BprobabilitiesJ(^Èf<€V‚<(±<¸h»<îÀ“<+¢<›ëƒ<êzZ?0±<çM!<