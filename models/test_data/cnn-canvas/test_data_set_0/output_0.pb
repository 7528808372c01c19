
BprobabilitiesJ( K‚:_м;Ы:U>;K¶ѓ9d«:чк№:1R|?dЦµ:iы;