package testkit

import (
	"kehu/internal/sales"
	"kehu/internal/task"
)

// TaskService returns the to-do service over the bank.
func (b *Bank) TaskService() *task.Service {
	return task.NewService(task.Deps{Store: b.DB.Tasks(), Customers: b.CustomerService(), Clock: b.Clock,
		Audit: b.Audit, Tx: b.DB})
}

// LeadService returns the lead service over the bank.
func (b *Bank) LeadService() *sales.Service {
	return sales.NewService(sales.Deps{Store: b.DB.Leads(), Customers: b.CustomerService(), Clock: b.Clock,
		Audit: b.Audit, Tx: b.DB})
}
