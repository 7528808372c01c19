
BprobabilitiesJ((|=T{=÷æ>—y=oûz=†»y=Í¸z=ï—y=nÔz=%4{=