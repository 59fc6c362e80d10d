//! Sample documents covering every tax category, discounts, charges, credit notes and a foreign currency.
