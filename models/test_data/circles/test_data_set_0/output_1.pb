
BprobabilityJ(┘╬┬7ЙV?О1ё5UV?▓Э<ш-?╞оl:И▌╚<нцы;oи~?