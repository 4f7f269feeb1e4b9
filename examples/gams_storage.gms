* Two-stage storage sizing on a scengen "gams" export, as a deterministic equivalent LP
* (the same model as examples/mpisppy_storage.py).
*
* First stage: battery energy capacity E [MWh]. Second stage, per scenario s: one day's dispatch;
* the sites deliver cap(i)*avail(s,i,t) [MW], a constant demand [MW] is met by them, the battery
* and a backup generator; surplus is curtailed. Objective:
*    storageCost*E + sum((s,t), prob(s)*weight(t)*backupCost*backup(s,t))
* weight(t) [h] is the step length times the --day-weight of the export.
*
* Run (needs GAMS with csv2gdx, which is not on PyPI):
*    scengen export runs/wind/reduced10 --format gams --out runs/wind/gams
*    gams examples/gams_storage.gms --scengen=runs/wind/gams
* It writes storage_result.csv (objective, E, demand) into the working directory.

$if not set scengen $set scengen .
$include "%scengen%/scengen_data.gms"

Scalar
   storageCost 'storage capacity cost [currency per MWh]' / 20 /
   backupCost  'backup energy cost [currency per MWh]'    / 100 /
   eff         'round-trip efficiency [-]'                / 0.9 /
   duration    'energy over power of the battery [h]'     / 4 /
   demand      'constant demand [MW]';

Parameter renewable(s,t) 'output of all sites [MW]';
renewable(s,t) = sum(i, cap(i)*avail(s,i,t));
* the expected mean output of all sites, as in mpisppy_storage.py
demand = sum((s,t), prob(s)*renewable(s,t))/card(t);

Positive Variable
   E               'storage capacity [MWh]'
   backup(s,t)     'backup generation [MW]'
   curtail(s,t)    'curtailed output [MW]'
   charge(s,t)     'charging [MW]'
   discharge(s,t)  'discharging [MW]'
   soc(s,t)        'state of charge at the end of a step [MWh]';
Variable cost 'expected cost [currency]';

Equation
   obj, balance(s,t), curtailMax(s,t), socMax(s,t), chargeMax(s,t), dischargeMax(s,t),
   socBalance(s,t);

obj..             cost =e= storageCost*E + sum((s,t), prob(s)*weight(t)*backupCost*backup(s,t));
balance(s,t)..    renewable(s,t) - curtail(s,t) + discharge(s,t) - charge(s,t) + backup(s,t)
                  =e= demand;
curtailMax(s,t).. curtail(s,t) =l= renewable(s,t);
socMax(s,t)..     soc(s,t) =l= E;
chargeMax(s,t)..  charge(s,t)*duration =l= E;
dischargeMax(s,t).. discharge(s,t)*duration =l= E;
* cyclic: the step before the first is the last (t--1)
socBalance(s,t).. soc(s,t) =e= soc(s,t--1)
                  + hours(t)*(sqrt(eff)*charge(s,t) - discharge(s,t)/sqrt(eff));

Model storage / all /;
solve storage using lp minimizing cost;
abort$(storage.modelStat <> 1) 'storage model not solved to optimality';

File result / 'storage_result.csv' /;
result.pc = 5;
result.nd = 10;
put result 'objective' 'E' 'demand' /;
put cost.l E.l demand /;
putclose result;
display E.l, cost.l;
