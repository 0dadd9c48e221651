/* Risk-assessment import: JSON/CSV parsing and validation. Issue 3, risk helper. (placeholder: to be written) */
#ifndef CIVIC_RISK_H
#define CIVIC_RISK_H

#endif
